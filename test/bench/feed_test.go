package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

func TestPercentile(t *testing.T) {
	s := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, v := range n {
			out = append(out, time.Duration(v)*time.Second)
		}
		return out
	}
	cases := map[string]struct {
		times []time.Duration
		p     int
		want  time.Duration
	}{
		"none":                     {nil, 95, 0},
		"one":                      {s(7), 95, 7 * time.Second},
		"p95 of 100 is the 95th":   {s(seq(100)...), 95, 95 * time.Second},
		"p95 of 10 is the largest": {s(seq(10)...), 95, 10 * time.Second},
		"p50 of 10 is the 5th":     {s(seq(10)...), 50, 5 * time.Second},
		"p100 is the largest":      {s(1, 2, 3), 100, 3 * time.Second},
	}
	for name, tc := range cases {
		if got := percentile(tc.times, tc.p); got != tc.want {
			t.Errorf("%s: percentile = %s, want %s", name, got, tc.want)
		}
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestCountCalls(t *testing.T) {
	before := testharness.Stats{{Method: "GET", Route: graphemu.RoutePhoneList, Status: 200, Count: 10}}
	after := testharness.Stats{
		{Method: "GET", Route: graphemu.RoutePhoneList, Status: 200, Count: 25},
		{Method: "GET", Route: graphemu.RouteDirectoryAudits, Status: 200, Count: 3},
		{Method: "GET", Route: graphemu.RouteDirectoryAudits, Status: 429, Count: 1},
		{Method: "PATCH", Route: graphemu.RoutePhoneItem, Status: 204, Count: 2},
		{Method: "POST", Route: graphemu.RouteToken, Status: 200, Count: 5}, // the login authority: not Graph
	}
	got := countCalls(after, before)
	want := callCounts{Lists: 15, AuditReads: 4, Writes: 2, Throttled: 1}
	if got != want {
		t.Errorf("countCalls = %+v, want %+v", got, want)
	}
}

func TestFeedMarkdown(t *testing.T) {
	r := &FeedResult{Config: FeedConfig{N: 1000, ResyncPeriod: time.Minute, PollInterval: time.Minute, SweepPeriod: 24 * time.Hour,
		AuditLag: 2 * time.Minute, DriftPercent: 1}, Objects: 1400}
	r.Off = feedMode{Window: 2 * time.Minute, Calls: callCounts{Lists: 2000}, Drift: driftTimes{Users: 10, Times: []time.Duration{30 * time.Second}}}
	r.On = feedMode{Window: 10 * time.Minute, Calls: callCounts{Lists: 7, AuditReads: 10}, Drift: driftTimes{Users: 10, Times: []time.Duration{3 * time.Minute}}}
	md := r.Markdown("make bench FEED=1")
	for _, want := range []string{
		"≤ 60 feed calls + 1000 users ÷ 24h of sweeps = 102 | 102 | yes", // (7 + 10) per 10 minutes
		"| per hour at the default resync (30 m) | **2000** |",           // 1 list per user per period, twice an hour
		"(the budget above gives 19.7×) | 19.6×",
		"≤ audit lag + poll + 30 s = 3m30s | 3m0s | yes",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if doc := replaceKeyedBlock("intro\n"+FeedAnchor+"\n", r.DocKey(), FeedAnchor, md); !strings.Contains(doc, "<!-- bench feed N=1000 begin -->") ||
		strings.Index(doc, "feed N=1000 end") > strings.Index(doc, FeedAnchor) {
		t.Errorf("the block does not go before the anchor:\n%s", doc)
	}
}
