package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

// managerMetrics is what the benchmark reads from the manager's /metrics.
type managerMetrics struct {
	// apiRequests: rest_client_requests_total by HTTP method (GET, PUT, PATCH, POST, …):
	// every request the manager made to the API server, watches and lists included.
	apiRequests map[string]float64
	// graphAttempts: phoneop_graph_requests_total by status code ("error": no answer).
	graphAttempts map[string]float64
	// reconciles: controller_runtime_reconcile_total of the phoneauthmethod controller by result.
	reconciles map[string]float64
}

func parseMetrics(text string) (managerMetrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return managerMetrics{}, err
	}
	m := managerMetrics{apiRequests: sumBy(fams["rest_client_requests_total"], "method", nil),
		graphAttempts: sumBy(fams["phoneop_graph_requests_total"], "code", nil),
		reconciles:    sumBy(fams["controller_runtime_reconcile_total"], "result", map[string]string{"controller": "phoneauthmethod"})}
	return m, nil
}

// sumBy sums a counter family by one label, over the series matching where.
func sumBy(f *dto.MetricFamily, label string, where map[string]string) map[string]float64 {
	out := map[string]float64{}
	if f == nil {
		return out
	}
metrics:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range where {
			if labels[k] != v {
				continue metrics
			}
		}
		out[labels[label]] += m.GetCounter().GetValue()
	}
	return out
}

// minus is the change since an earlier scrape.
func (m managerMetrics) minus(before managerMetrics) managerMetrics {
	diff := func(a, b map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range a {
			if d := v - b[k]; d != 0 {
				out[k] = d
			}
		}
		return out
	}
	return managerMetrics{apiRequests: diff(m.apiRequests, before.apiRequests),
		graphAttempts: diff(m.graphAttempts, before.graphAttempts), reconciles: diff(m.reconciles, before.reconciles)}
}

// apiWrites counts the manager's mutating API-server requests (object, status and event
// writes; leader election is off in the benchmark).
func (m managerMetrics) apiWrites() int {
	n := 0.0
	for method, v := range m.apiRequests {
		if method != "GET" && method != "WATCH" && method != "LIST" {
			n += v
		}
	}
	return int(n)
}

func (m managerMetrics) apiTotal() int {
	n := 0.0
	for _, v := range m.apiRequests {
		n += v
	}
	return int(n)
}

// failedAttempts are Graph attempts answered 429 or 5xx or not at all: each was retried by
// the client (or, past its retry budget, requeued by the controller).
func (m managerMetrics) failedAttempts() int {
	n := 0.0
	for code, v := range m.graphAttempts {
		if code == "429" || code == "error" || strings.HasPrefix(code, "5") {
			n += v
		}
	}
	return int(n)
}

// graphCalls sums an emulator stats table into calls by "METHOD route" (Graph routes only,
// token and discovery excluded), and counts 429 answers.
type graphCalls struct {
	byOp      map[string]int
	total     int
	throttled int
	reads     int
	writes    int
}

func summarize(s testharness.Stats) graphCalls {
	g := graphCalls{byOp: map[string]int{}}
	for _, st := range s {
		if !testharness.IsGraphRoute(st.Route) {
			continue
		}
		g.byOp[opName(st.Method, st.Route)] += st.Count
		g.total += st.Count
		if st.Status == 429 {
			g.throttled += st.Count
		}
		if st.Method == "GET" {
			g.reads += st.Count
		} else {
			g.writes += st.Count
		}
	}
	return g
}

// opName turns a method and route template into the operation's name in the report.
func opName(method, route string) string {
	switch {
	case method == "GET" && route == graphemu.RouteUser:
		return "getUser"
	case method == "GET" && route == graphemu.RouteUsers:
		return "listUsers"
	case method == "GET" && strings.HasPrefix(route, "/roleManagement/"), method == "GET" && strings.HasPrefix(route, "/groups/"):
		return "listPrivileged" // the privileged-user guard's tenant-wide reads
	case method == "GET" && route == graphemu.RouteDirectoryAudits:
		return "listDirectoryAudits"
	case method == "GET" && strings.HasSuffix(route, "/phoneMethods"):
		return "listPhoneMethods"
	case method == "GET":
		return "getPhoneMethod"
	case method == "POST" && strings.HasSuffix(route, "/phoneMethods"):
		return "createPhoneMethod"
	case method == "PATCH":
		return "updatePhoneMethod"
	case method == "DELETE":
		return "deletePhoneMethod"
	case strings.HasSuffix(route, "enableSmsSignIn"):
		return "enableSmsSignIn"
	case strings.HasSuffix(route, "disableSmsSignIn"):
		return "disableSmsSignIn"
	}
	return method + " " + route
}

// procStats are the manager's peak resident memory and CPU time, from /proc (Linux).
type procStats struct {
	peakRSSBytes int64
	cpuSeconds   float64
}

func readProc(pid int) (procStats, error) {
	var ps procStats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			ps.peakRSSBytes = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// Fields after the command (which may hold spaces) start at ")"; utime and stime are
	// fields 14 and 15, in clock ticks of 1/100 s (USER_HZ is 100 on Linux).
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(rest) < 13 {
		return ps, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseFloat(rest[11], 64)
	stime, _ := strconv.ParseFloat(rest[12], 64)
	ps.cpuSeconds = (utime + stime) / 100
	return ps, nil
}

// findChild returns the pid of our child process running the named binary: the harness
// starts the manager but does not expose its pid.
func findChild(binary string) (int, error) {
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		rest := strings.Fields(s[close+1:])
		if len(rest) < 2 || s[open+1:close] != binary {
			continue
		}
		if ppid, _ := strconv.Atoi(rest[1]); ppid == self {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process %q", binary)
}
