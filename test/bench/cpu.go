package bench

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// The processes of a run, by the name the kernel gives them. The control plane is started by
// the benchmark's own process (envtest), so all of them are its children.
var runProcesses = []string{"kube-apiserver", "etcd", "graph-emulator", "manager"}

const benchProcess = "benchmark"

// cpuMeter reads the CPU time of every process of the run, so that a phase can say how busy
// the machine was: when the processes together use (nearly) every core, the time is the
// machine's, not a wait on Graph.
type cpuMeter map[string]int // name → pid

func newCPUMeter() cpuMeter {
	m := cpuMeter{benchProcess: os.Getpid()}
	for _, name := range runProcesses {
		if pid, err := findChild(name); err == nil {
			m[name] = pid
		}
	}
	return m
}

// cpuSample is CPU seconds by process at one moment.
type cpuSample map[string]float64

func (m cpuMeter) sample() cpuSample {
	s := cpuSample{}
	for name, pid := range m {
		if ps, err := readProc(pid); err == nil {
			s[name] = ps.cpuSeconds
		}
	}
	return s
}

// cpuUse is what a phase used: CPU seconds by process, over a wall time.
type cpuUse struct {
	seconds map[string]float64
	wall    time.Duration
}

func (s cpuSample) until(later cpuSample, wall time.Duration) cpuUse {
	u := cpuUse{seconds: map[string]float64{}, wall: wall}
	for name, v := range later {
		u.seconds[name] = v - s[name]
	}
	return u
}

func (u cpuUse) total() float64 {
	t := 0.0
	for _, v := range u.seconds {
		t += v
	}
	return t
}

// busyPercent is the share of the machine's cores the run's processes kept busy.
func (u cpuUse) busyPercent() float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * u.total() / (u.wall.Seconds() * float64(runtime.NumCPU()))
}

func (u cpuUse) String() string {
	names := make([]string, 0, len(u.seconds))
	for n := range u.seconds {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return u.seconds[names[i]] > u.seconds[names[j]] })
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f s", n, u.seconds[n]))
	}
	return fmt.Sprintf("%s; together %.0f %% of %d cores for %s", strings.Join(parts, ", "), u.busyPercent(), runtime.NumCPU(), u.wall.Round(100*time.Millisecond))
}
