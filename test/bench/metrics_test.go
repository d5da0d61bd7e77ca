package bench

import (
	"maps"
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

// TestSummarizeCountsEveryGraphCallPhoneopMakes: the steady state's "GETs per user per period"
// must include the tenant-wide reads (the user cache's directory listing, the privileged-user
// guard's role reads), or a change that moves per-user reads into them would look free; the
// login authority's calls are not Graph's quota and stay out.
func TestSummarizeCountsEveryGraphCallPhoneopMakes(t *testing.T) {
	stats := testharness.Stats{
		{Method: "GET", Route: graphemu.RoutePhoneList, Status: 200, Count: 1000},
		{Method: "GET", Route: graphemu.RouteUsers, Status: 200, Count: 2},
		{Method: "GET", Route: graphemu.RouteUser, Status: 200, Count: 3},
		{Method: "GET", Route: graphemu.RouteRoleAssignments, Status: 200, Count: 1},
		{Method: "GET", Route: graphemu.RouteGroupTransitiveUsers, Status: 200, Count: 1},
		{Method: "POST", Route: graphemu.RoutePhoneList, Status: 201, Count: 5},
		{Method: "PATCH", Route: graphemu.RoutePhoneItem, Status: 429, Count: 1},
		{Method: "POST", Route: graphemu.RouteToken, Status: 200, Count: 7},
		{Method: "GET", Route: graphemu.RouteOpenIDConf, Status: 200, Count: 7},
	}
	g := summarize(stats)
	want := map[string]int{"listPhoneMethods": 1000, "listUsers": 2, "getUser": 3, "listPrivileged": 2, "createPhoneMethod": 5, "updatePhoneMethod": 1}
	if !maps.Equal(want, g.byOp) {
		t.Errorf("calls by operation = %v, want %v", g.byOp, want)
	}
	if g.reads != 1007 || g.writes != 6 || g.throttled != 1 || g.total != 1013 {
		t.Errorf("reads %d, writes %d, throttled %d, total %d; want 1007, 6, 1, 1013", g.reads, g.writes, g.throttled, g.total)
	}
}
