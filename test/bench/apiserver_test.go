package bench

import (
	"testing"
	"time"
)

func TestAPIServerRequestsByVerbAndResource(t *testing.T) {
	const page = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="identity.phoneop.dev",resource="phoneauthmethods",scope="resource",subresource="",verb="POST",version="v1alpha1"} 140
apiserver_request_total{code="200",component="apiserver",dry_run="",group="identity.phoneop.dev",resource="phoneauthmethods",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 150
apiserver_request_total{code="409",component="apiserver",dry_run="",group="identity.phoneop.dev",resource="phoneauthmethods",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 10
apiserver_request_total{code="200",component="apiserver",dry_run="",group="identity.phoneop.dev",resource="phoneauthmethods",scope="namespace",subresource="",verb="WATCH",version="v1alpha1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 1
`
	got, err := parseAPIServerRequests(page)
	if err != nil {
		t.Fatal(err)
	}
	want := apiRequests{"POST phoneauthmethods": 140, "PATCH phoneauthmethods/status": 160, "WATCH phoneauthmethods": 3, "PUT leases": 1}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v (a refused patch costs the API server too)", k, got[k], v)
		}
	}
	before := apiRequests{"POST phoneauthmethods": 0, "PATCH phoneauthmethods/status": 20, "PUT leases": 1}
	writes := got.minus(before).writes()
	if writes.total() != 280 || writes["PUT leases"] != 0 || writes["WATCH phoneauthmethods"] != 0 {
		t.Errorf("writes since before: %v, want 140 creates and 140 status patches", writes)
	}
	if s, want := writes.perObject(140), "2.00 (PATCH phoneauthmethods/status 1.00, POST phoneauthmethods 1.00)"; s != want {
		t.Errorf("perObject: %q, want %q", s, want)
	}
}

func TestHeadlineIsTimeOverTheLargerFloor(t *testing.T) {
	graph := Floor{Created: 2 * time.Second, CriticalPath: time.Second} // 3 s
	cases := map[string]struct {
		machine     time.Duration // 0: no baseline run
		wantRatio   float64
		wantBinding string
	}{
		"the machine floor is larger: the API server binds": {machine: 6 * time.Second, wantRatio: 2, wantBinding: "machine"},
		"Graph's floor is larger":                           {machine: 2 * time.Second, wantRatio: 4, wantBinding: "Graph"},
		"no baseline run: Graph's floor alone":              {wantRatio: 4, wantBinding: "Graph"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := &Result{AllReady: 12 * time.Second, Floor: graph}
			if c.machine > 0 {
				r.Baseline = &onboarding{allReady: c.machine}
			}
			if r.ratio() != c.wantRatio || r.bindingFloor() != c.wantBinding {
				t.Errorf("ratio %.2f (%s floor), want %.2f (%s)", r.ratio(), r.bindingFloor(), c.wantRatio, c.wantBinding)
			}
		})
	}
}
