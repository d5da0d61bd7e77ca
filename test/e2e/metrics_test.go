/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// metricName matches the phoneop and controller-runtime metric names in PromQL, roughly.
var metricName = regexp.MustCompile(`phoneop_[a-z_]+|controller_runtime_[a-z_]+`)

// recordedName matches a recording rule's name: it is made by Prometheus, not scraped.
var recordedName = regexp.MustCompile(`(?m)^\s*-?\s*record:\s*(\S+)`)

// familyOf strips the suffixes a histogram or summary adds to its family name.
func familyOf(name string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}

// scrapedFamilies returns the metric families on the manager's /metrics page.
func scrapedFamilies(g Gomega) map[string]bool {
	page, err := h.Scrape(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	families := map[string]bool{}
	for _, line := range strings.Split(page, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line+" ", "{ ")]
		families[familyOf(name)] = true
	}
	return families
}

// TestMetricsScrape: the metrics the alerts and dashboards need are exported.
func TestMetricsScrape(t *testing.T) {
	g := NewWithT(t)
	families := scrapedFamilies(g)
	for _, name := range []string{
		"phoneop_graph_requests_total",
		"phoneop_graph_request_duration_seconds",
		"phoneop_phoneauthmethods",
		"controller_runtime_reconcile_total",
	} {
		g.Expect(families).To(HaveKey(name))
	}
}

// TestMetricsReferencedByPrometheusConfig: every metric config/prometheus/*.yaml (alerts)
// and *.json (dashboards) query exists in a scrape, so that no alert or panel silently
// watches a name that was renamed or never existed.
func TestMetricsReferencedByPrometheusConfig(t *testing.T) {
	dir := filepath.Join("..", "..", "config", "prometheus")
	yamls, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	jsons, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	files := append(yamls, jsons...)
	if len(files) == 0 {
		t.Skip("no config/prometheus/*.yaml yet")
	}
	referenced, recorded := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range recordedName.FindAllStringSubmatch(string(b), -1) {
			recorded[m[1]] = true
		}
		for _, name := range metricName.FindAllString(string(b), -1) {
			referenced[familyOf(name)] = true
		}
	}
	// A labelled counter appears on /metrics only once it has counted something: make Graph
	// throttle a little so that phoneop_graph_throttled_total exists too.
	provokeThrottling(t)

	g := NewWithT(t)
	families := scrapedFamilies(g)
	var missing []string
	for name := range referenced {
		if !recorded[name] && !families[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	g.Expect(missing).To(BeEmpty(), "metrics referenced by config/prometheus but absent from the manager's /metrics")
}

// provokeThrottling makes the emulator answer every Graph request 429 (Retry-After 1 s)
// while a resync of one object is forced, until the manager has counted a throttled
// request, then lets the object converge again.
func provokeThrottling(t *testing.T) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(h.EmulatorAdmin(ctx, "PUT", "faults", graphemu.Faults{Rate429: 1, RetryAfterSeconds: 1}, nil)).To(Succeed())
	value := requestResync(t, soloMobile)
	g.Eventually(func(g Gomega) {
		g.Expect(scrapedFamilies(g)).To(HaveKey("phoneop_graph_throttled_total"))
	}, eventually, poll).Should(Succeed())
	g.Expect(h.EmulatorAdmin(ctx, "PUT", "faults", graphemu.Faults{}, nil)).To(Succeed())
	waitHandled(t, value, soloMobile)
	waitReady(t, soloMobile)
}
