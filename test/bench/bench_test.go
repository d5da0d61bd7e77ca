package bench

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// TestMain lets the test binary serve as the null controller too: Run starts its own
// executable as one (nullcontroller.go), and under go test that is this binary.
func TestMain(m *testing.M) {
	RunNullControllerIfAsked()
	os.Exit(m.Run())
}

func TestLowerBound(t *testing.T) {
	cases := map[string]struct {
		work        Work
		wantMax     time.Duration
		wantBinding string
	}{
		"10,000 users: 14,000 creates at 20 writes/s": {
			work:    Work{Users: 10000, Writes: 14000, Reads: 20000, Latency: 30 * time.Millisecond, Concurrency: 16},
			wantMax: 700 * time.Second, wantBinding: "writes",
		},
		"one user, slow Graph, one worker: latency binds": {
			work:    Work{Users: 1, Writes: 2, Reads: 2, Latency: time.Second, Concurrency: 1},
			wantMax: 4 * time.Second, wantBinding: "latency",
		},
		"Graph's limits halved: 10 writes/s": {
			work:    Work{Users: 3000, Writes: 4200, Reads: 6000, ThrottleScale: 0.5, Latency: 30 * time.Millisecond, Concurrency: 16},
			wantMax: 420 * time.Second, wantBinding: "writes",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b := LowerBound(c.work)
			if b.Max() != c.wantMax || b.Binding() != c.wantBinding {
				t.Errorf("bound %s (%s), want %s (%s)", b.Max(), b.Binding(), c.wantMax, c.wantBinding)
			}
		})
	}
}

func TestFloor(t *testing.T) {
	const latency = 30 * time.Millisecond
	cases := map[string]struct {
		work        Work
		created     time.Duration
		wantFloor   time.Duration
		wantBinding string
	}{
		"10,000 users: the writes beyond the first 3,000 at 20/s": {
			work:    Work{Users: 10000, Writes: 14000, Reads: 20000, Latency: latency},
			created: 18 * time.Second, wantFloor: 550 * time.Second, wantBinding: "Graph's buckets",
		},
		"1,000 users: every write fits in the full bucket, so creating the objects binds": {
			work:    Work{Users: 1000, Writes: 1400, Reads: 2000, Latency: latency},
			created: 2 * time.Second, wantFloor: 2*time.Second + 90*time.Millisecond, wantBinding: "creation + critical path",
		},
		"3,000 users at half the limits: 1,500 writes free, then 10/s": {
			work:    Work{Users: 3000, Writes: 4200, Reads: 6000, Latency: latency, ThrottleScale: 0.5},
			created: 5 * time.Second, wantFloor: 270 * time.Second, wantBinding: "Graph's buckets",
		},
		"3,000 users at twice the limits: 6,000 writes free": {
			work:    Work{Users: 3000, Writes: 4200, Reads: 6000, Latency: latency, ThrottleScale: 2},
			created: 5 * time.Second, wantFloor: 5*time.Second + 90*time.Millisecond, wantBinding: "creation + critical path",
		},
		"reads binding: 20,000 RU beyond a small tenant's 3,500": {
			work:    Work{Users: 40, Writes: 0, Reads: 23500, Latency: latency},
			created: time.Second, wantFloor: 57142857142 * time.Nanosecond, wantBinding: "Graph's buckets",
		},
		"concurrency is not part of the floor": {
			work:    Work{Users: 1000, Writes: 1400, Reads: 2000, Latency: latency, Concurrency: 1},
			created: 2 * time.Second, wantFloor: 2*time.Second + 90*time.Millisecond, wantBinding: "creation + critical path",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := NewFloor(c.work, c.created)
			if f.Max() != c.wantFloor || f.Binding() != c.wantBinding {
				t.Errorf("floor %s (%s), want %s (%s)", f.Max(), f.Binding(), c.wantFloor, c.wantBinding)
			}
			if b := LowerBound(c.work); c.work.Concurrency > 0 && f.Buckets > b.Max() {
				t.Errorf("the buckets' floor %s exceeds the sustained bound %s", f.Buckets, b.Max())
			}
		})
	}
}

func TestRULimitTiers(t *testing.T) {
	for users, want := range map[int]int{49: 3500, 50: 5000, 500: 5000, 501: 8000, 10000: 8000} {
		if got := RULimit(users); got != want {
			t.Errorf("RULimit(%d) = %d, want %d", users, got, want)
		}
	}
}

func TestMixHoldsThePercentages(t *testing.T) {
	w := newWorkload(1000, Mix{AlternatePercent: 30, OfficePercent: 10}, "ns", "tenant")
	got := map[identityv1alpha1.PhoneType]int{}
	for _, o := range w.objects {
		got[o.Spec.PhoneType]++
	}
	if got[identityv1alpha1.PhoneTypeMobile] != 1000 || got[identityv1alpha1.PhoneTypeAlternateMobile] != 300 || got[identityv1alpha1.PhoneTypeOffice] != 100 {
		t.Errorf("objects by type %v, want 1000 mobile, 300 alternateMobile, 100 office", got)
	}
	small := newWorkload(20, Mix{AlternatePercent: 30, OfficePercent: 10}, "ns", "tenant")
	if n := len(small.objects); n <= 20 || n >= 40 {
		t.Errorf("20 users got %d objects: the optional types should be spread, not clustered", n)
	}
}

func TestReplaceBlockKeepsTheRestOfTheDocument(t *testing.T) {
	doc := "# Benchmarks\n\nprose\n\n<!-- bench results end -->\n\n## Scaling on paper\n"
	doc = replaceBlock(doc, 1000, "run one")
	doc = replaceBlock(doc, 10000, "big run")
	doc = replaceBlock(doc, 1000, "run two")
	if strings.Contains(doc, "run one") || !strings.Contains(doc, "run two") || !strings.Contains(doc, "big run") {
		t.Errorf("a rerun must replace its own block only:\n%s", doc)
	}
	if !strings.HasSuffix(doc, "## Scaling on paper\n") || !strings.HasPrefix(doc, "# Benchmarks\n\nprose\n") {
		t.Errorf("the prose around the blocks changed:\n%s", doc)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:1",method="GET"} 3
rest_client_requests_total{code="200",host="127.0.0.1:1",method="PATCH"} 5
rest_client_requests_total{code="409",host="127.0.0.1:1",method="PATCH"} 1
# TYPE phoneop_graph_requests_total counter
phoneop_graph_requests_total{code="201",operation="createPhoneMethod"} 7
phoneop_graph_requests_total{code="429",operation="createPhoneMethod"} 2
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="phoneauthmethod",result="success"} 4
controller_runtime_reconcile_total{controller="entratenant",result="success"} 9
`
	m, err := parseMetrics(text)
	if err != nil {
		t.Fatal(err)
	}
	if m.apiWrites() != 6 || m.apiTotal() != 9 || m.failedAttempts() != 2 || m.reconciles["success"] != 4 {
		t.Errorf("parsed %+v: want 6 API writes of 9, 2 failed Graph attempts, 4 PhoneAuthMethod reconciles", m)
	}
}

func TestPlotEncodesAPNG(t *testing.T) {
	var buf bytes.Buffer
	ready := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if err := Plot(&buf, ready, 3, 3*time.Second, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
}

// TestSmoke runs the whole benchmark with 20 users and a 5 s resync: the real control plane,
// emulator and manager binaries. It checks that every phase completes and that the report
// never shows a phone number, never how fast anything was (no timed assertions in make test).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the control plane and the manager")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{N: 20, Mix: Mix{AlternatePercent: 30, OfficePercent: 10},
		Latency: 5 * time.Millisecond, ResyncPeriod: 5 * time.Second, DriftPercent: 1,
		SkipSteadyState: true, ReadyTimeout: time.Minute, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.ReadyTimes); got != res.objectCount() {
		t.Errorf("%d of %d objects Ready", got, res.objectCount())
	}
	if res.DriftUsers != 1 || res.DriftUncorrected != 0 {
		t.Errorf("drift: %d users changed, %d not corrected; want 1 and 0", res.DriftUsers, res.DriftUncorrected)
	}
	if res.Converge.graph.byOp["createPhoneMethod"] != res.objectCount() {
		t.Errorf("creates %d, want one per object (%d): %v", res.Converge.graph.byOp["createPhoneMethod"], res.objectCount(), res.Converge.graph.byOp)
	}
	md := res.Markdown("go test", "")
	for _, u := range newWorkload(20, res.Config.Mix, namespace, tenantName).users {
		for _, number := range []string{u.number(identityv1alpha1.PhoneTypeMobile), u.driftNumber()} {
			if strings.Contains(md, number) || strings.Contains(md, strings.ReplaceAll(number, " ", "")) {
				t.Fatalf("the report shows a phone number")
			}
		}
	}
}
