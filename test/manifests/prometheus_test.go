package manifests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// knownMetrics is every metric the alerts and the dashboard may use: the ones the manager
// serves. Keep this the one list. Sources:
//   - internal/graph/metrics.go: phoneop_graph_*;
//   - internal/objectmetrics: phoneop_phoneauthmethods;
//   - internal/budget/collector.go: phoneop_change_budget_remaining, phoneop_create_budget_remaining;
//   - internal/changefeed/metrics.go: phoneop_change_feed_*;
//   - controller-runtime v0.25 (pkg/internal/controller/metrics, pkg/metrics/workqueue.go):
//     controller_runtime_* and workqueue_*.
//
// The end-to-end test scrapes the real manager and checks the same names against /metrics.
var knownMetrics = map[string]metricKind{
	"phoneop_graph_requests_total":                  counter,   // {operation, code}
	"phoneop_graph_request_duration_seconds":        histogram, // {operation}
	"phoneop_graph_throttled_total":                 counter,   // {operation}
	"phoneop_graph_tenant_pause_seconds":            gauge,     // {tenant}
	"phoneop_phoneauthmethods":                      gauge,     // {namespace, ready, reason}
	"phoneop_change_budget_remaining":               gauge,     // {tenant}
	"phoneop_create_budget_remaining":               gauge,     // {tenant}
	"phoneop_change_feed_enabled":                   gauge,     // {tenant}
	"phoneop_change_feed_healthy":                   gauge,     // {tenant}
	"phoneop_change_feed_lag_seconds":               gauge,     // {tenant}
	"phoneop_change_feed_entries_total":             counter,   // {tenant}
	"phoneop_change_feed_users_woken_total":         counter,   // {tenant}
	"phoneop_change_feed_unattributed_writes_total": counter,   // {tenant}
	"controller_runtime_reconcile_total":            counter,   // {controller, result}
	"controller_runtime_reconcile_errors_total":     counter,   // {controller}
	"controller_runtime_reconcile_time_seconds":     histogram, // {controller}
	"workqueue_depth":                               gauge,     // {name, controller}
}

type metricKind int

const (
	counter metricKind = iota
	gauge
	histogram
)

// The alerts the issue asks for, and how long each must hold before it fires.
var wantAlerts = map[string]string{
	"PhoneopObjectsNotReady":   "30m",
	"PhoneopGraphThrottled":    "15m",
	"PhoneopGraphUnauthorized": "5m",
	"PhoneopReconcileErrors":   "15m",
	// A bad commit stripping phones must be noticed within minutes.
	"PhoneopChangeBudgetExhausted": "5m",
	// A failing change feed costs reads and delays drift detection, but loses nothing.
	"PhoneopChangeFeedDown": "15m",
	// A change made with phoneop's credential outside phoneop: at once.
	"PhoneopCredentialUsedOutsidePhoneop": "0m",
}

func TestPrometheusRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert       string            `json:"alert"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(b, &rule); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	if rule.Kind != "PrometheusRule" {
		t.Fatalf("alerts.yaml is a %s, want a PrometheusRule", rule.Kind)
	}
	seen := map[string]bool{}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			seen[r.Alert] = true
			if want, ok := wantAlerts[r.Alert]; ok && r.For != want {
				t.Errorf("%s: for %q, want %q", r.Alert, r.For, want)
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" || r.Annotations["runbook_url"] == "" {
				t.Errorf("%s: needs a severity label and summary, description and runbook_url annotations", r.Alert)
			}
			checkMetrics(t, r.Alert, r.Expr)
		}
	}
	for a := range wantAlerts {
		if !seen[a] {
			t.Errorf("alert %s is missing", a)
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "prometheus", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	exprs := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				// A datasource variable's query is a plugin type ("prometheus"), not PromQL.
				isQuery := k == "expr" || ((k == "query" || k == "definition") && v["type"] != "datasource")
				if s, ok := e.(string); ok && isQuery {
					exprs++
					checkMetrics(t, path+"."+k, s)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("dashboard", d)
	if exprs < 10 {
		t.Errorf("found only %d queries in the dashboard; is the walk broken?", exprs)
	}
}

// checkMetrics fails when expr uses a metric the manager does not serve.
func checkMetrics(t *testing.T, where, expr string) {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: no metric found in %q", where, expr)
	}
	for _, n := range names {
		if !isKnownMetric(n) {
			t.Errorf("%s: %s is not a metric phoneop serves (known: see knownMetrics)", where, n)
		}
	}
}

// isKnownMetric accepts the series a histogram exposes (_bucket, _sum, _count) only for
// histograms, and a plain name only for counters and gauges.
func isKnownMetric(name string) bool {
	if k, ok := knownMetrics[name]; ok {
		return k != histogram
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && knownMetrics[base] == histogram {
			return true
		}
	}
	return false
}

var (
	promString     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers   = regexp.MustCompile(`\{[^}]*\}`)
	promRange      = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent      = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	grafanaLabelsQ = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	promKeywords   = []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN"}
)

// metricNames extracts the metric names a PromQL expression (or a Grafana label_values query)
// selects: what is left after removing strings, label matchers, ranges, grouping clauses,
// function calls and keywords. A PromQL parser would be a large dependency for this.
func metricNames(expr string) []string {
	if m := grafanaLabelsQ.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	s := promString.ReplaceAllString(expr, "")
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	set := map[string]bool{}
	for _, m := range promIdent.FindAllStringSubmatch(s, -1) {
		id := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || slices.Contains(promKeywords, id) { // a function call or a keyword
			continue
		}
		set[id] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (namespace, reason) (phoneop_phoneauthmethods{ready!="True"}) > 0`:                                      {"phoneop_phoneauthmethods"},
		`histogram_quantile(0.95, sum by (le) (rate(phoneop_graph_request_duration_seconds_bucket[$__rate_interval])))`: {"phoneop_graph_request_duration_seconds_bucket"},
		`rate(a_total{x="y{z}"}[5m]) / on(job) group_left(instance) up and b`:                                           {"a_total", "b", "up"},
		`label_values(phoneop_phoneauthmethods, namespace)`:                                                             {"phoneop_phoneauthmethods"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
}

// TestHelmChartCarriesTheAlerts: the chart's PrometheusRule (prometheusRule.enabled) renders
// the same alerts as config/prometheus (make chart-sync copies them).
func TestHelmChartCarriesTheAlerts(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", "phoneop", "files", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("charts/phoneop/files/alerts.yaml differs from config/prometheus/alerts.yaml: run make chart-sync")
	}
}

// TestHelmChartPrometheusRule: prometheusRule.enabled renders the alerts as a PrometheusRule
// in the release's namespace, the credential alert among them; the default renders none.
func TestHelmChartPrometheusRule(t *testing.T) {
	for _, o := range decode(t, helmTemplate(t, "phoneop", "phoneop-system", "")) {
		if o.GetKind() == "PrometheusRule" {
			t.Fatal("the default values render a PrometheusRule; it needs the Prometheus Operator's CRDs")
		}
	}
	rule := find(t, decode(t, helmTemplate(t, "phoneop", "phoneop-system", "prometheusRule: {enabled: true, labels: {release: prom}}")), "PrometheusRule")
	if rule.GetNamespace() != "phoneop-system" || rule.GetLabels()["release"] != "prom" {
		t.Errorf("PrometheusRule %s/%s labels %v, want the release namespace and the extra label", rule.GetNamespace(), rule.GetName(), rule.GetLabels())
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	var alerts []string
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			alerts = append(alerts, r.(map[string]any)["alert"].(string))
		}
	}
	for a := range wantAlerts {
		if !slices.Contains(alerts, a) {
			t.Errorf("the chart's PrometheusRule lacks %s (has %v)", a, alerts)
		}
	}
}
