package graphemu_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// The emulator records each Graph request's x-ms-throttle-priority (lower-cased; "none" when
// absent), $batch parts on their own, per tenant, and forgets them with the stats.
func TestPriorityStats(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, EnableAdmin: true})
	get := func(path, priority string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, en.srv.URL+path, nil)
		must(t, err)
		req.Header.Set("Authorization", "Bearer "+en.token)
		if priority != "" {
			req.Header.Set(graphemu.PriorityHeader, priority)
		}
		resp, err := en.srv.Client().Do(req)
		must(t, err)
		readAll(t, resp)
	}
	get(phonePath(kimID), "low")
	get(phonePath(kimID), "Low")
	get(phonePath(kimID), "")
	get(phonePath(kimUPN), "normal")
	en.do(t, "POST", "/v1.0/$batch", en.token, `{"requests":[{"id":"1","method":"GET","url":"/users/`+kimID+`/authentication/phoneMethods","headers":{"x-ms-throttle-priority":"low"}}]}`)
	want := []graphemu.PriorityStat{
		{Method: "POST", Route: graphemu.RouteBatch, Priority: graphemu.NoPriority, Count: 1},
		{Method: "GET", Route: graphemu.RoutePhoneList, Priority: "low", Count: 3},
		{Method: "GET", Route: graphemu.RoutePhoneList, Priority: graphemu.NoPriority, Count: 1},
		{Method: "GET", Route: graphemu.RoutePhoneList, Priority: "normal", Count: 1},
	}
	if d := cmp.Diff(want, en.e.PriorityStats()); d != "" {
		t.Fatalf("priority stats (-want +got):\n%s", d)
	}
	if n := en.e.TenantPriorityCount(strings.ToUpper(tenantID), "GET", "", "low"); n != 3 {
		t.Errorf("the tenant's low GETs: %d, want 3", n)
	}
	if n := en.e.TenantPriorityCount("another-tenant", "", "", "low"); n != 0 {
		t.Errorf("another tenant's low requests: %d, want 0", n)
	}
	if b := en.admin(t, "GET", "/priorities?tenant="+tenantID, "", 200); !strings.Contains(string(b), `"priority":"low","count":3`) {
		t.Errorf("GET /_emulator/priorities: %s", b)
	}
	en.e.ResetTenantStats(tenantID)
	if got := en.e.PriorityStats(); len(got) != 0 {
		t.Errorf("ResetTenantStats left priority counts: %+v", got)
	}
}
