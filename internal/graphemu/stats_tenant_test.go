package graphemu_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// Second tenant for the per-tenant stats tests. Its id is registered in
// upper case to show tenant ids compare case-insensitively.
const (
	tenant2ID = "22222222-AAAA-2222-2222-222222222222"
	t2App     = "bbbbbbbb-0000-0000-0000-000000000001"
	anaID     = "6e7b0000-0000-0000-0000-0000000000aa"
)

// addTenant2 registers the second tenant with one app and one user and
// returns that app's token. The calls it makes are counted.
func (en *env) addTenant2(t *testing.T) string {
	t.Helper()
	must(t, en.e.AddTenant(graphemu.Tenant{ID: tenant2ID}))
	must(t, en.e.AddApp(graphemu.App{TenantID: tenant2ID, ClientID: t2App, ClientSecret: secret,
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll}}))
	must(t, en.e.AddUser(graphemu.User{TenantID: tenant2ID, ID: anaID, UserPrincipalName: "ana@fabrikam.com"}))
	resp, body := en.form(t, strings.ToLower(tenant2ID), url.Values{"grant_type": {"client_credentials"},
		"client_id": {t2App}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}})
	if resp.StatusCode != 200 {
		t.Fatalf("tenant 2 token: %d %s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	must(t, json.Unmarshal(body, &tr))
	return tr.AccessToken
}

// TestTenantStats: token requests count for the tenant in the path, Graph
// requests and $batch parts for the token's tenant, anything else for "";
// the global view still sums them all.
func TestTenantStats(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	tok2 := en.addTenant2(t)
	en.do(t, "GET", phonePath(kimID), en.token, "")
	en.do(t, "POST", phonePath(kimID), en.token, create("mobile", num1))
	en.do(t, "GET", phonePath(anaID), tok2, "")
	en.do(t, "GET", phonePath(kimID), tok2, "") // kim is not in tenant 2: 404, still tenant 2's call
	en.do(t, "POST", "/v1.0/$batch", tok2, `{"requests":[
		{"id":"1","method":"GET","url":"/users/`+anaID+`/authentication/phoneMethods"},
		{"id":"2","method":"GET","url":"/users/`+anaID+`/authentication/phoneMethods"}]}`)
	en.do(t, "GET", phonePath(kimID), "", "")           // no token
	en.do(t, "GET", phonePath(kimID), en.token+"x", "") // not signed by this emulator
	en.do(t, "GET", "/"+tenantID+"/v2.0/.well-known/openid-configuration", "", "")

	cases := map[string]struct {
		tenant, method, route string
		want                  int
	}{
		"tenant 1 lists":                       {tenantID, "GET", graphemu.RoutePhoneList, 1},
		"tenant 1 creates":                     {tenantID, "POST", graphemu.RoutePhoneList, 1},
		"tenant 1 discovery by path":           {tenantID, "GET", graphemu.RouteOpenIDConf, 1},
		"tenant 1 all calls":                   {tenantID, "", "", 3},
		"tenant 2 lists and batch parts":       {tenant2ID, "GET", graphemu.RoutePhoneList, 4},
		"tenant 2 token by path (lower case)":  {tenant2ID, "POST", graphemu.RouteToken, 1},
		"tenant 2 batch":                       {tenant2ID, "POST", graphemu.RouteBatch, 1},
		"tenant id in any case":                {strings.ToLower(tenant2ID), "", "", 6},
		"untrusted tokens count for no tenant": {"", "GET", graphemu.RoutePhoneList, 2},
		"unknown tenant":                       {"33333333-3333-3333-3333-333333333333", "", "", 0},
	}
	for name, tc := range cases {
		if got := en.e.TenantCount(tc.tenant, tc.method, tc.route); got != tc.want {
			t.Errorf("%s: TenantCount(%q, %q, %q) = %d, want %d", name, tc.tenant, tc.method, tc.route, got, tc.want)
		}
	}
	if got, want := en.e.Count("GET", graphemu.RoutePhoneList), 7; got != want {
		t.Errorf("global Count sums every tenant: %d, want %d", got, want)
	}
	wantT1 := []graphemu.Stat{
		{Tenant: tenantID, Method: "GET", Route: graphemu.RoutePhoneList, Status: 200, Count: 1},
		{Tenant: tenantID, Method: "POST", Route: graphemu.RoutePhoneList, Status: 201, Count: 1},
		{Tenant: tenantID, Method: "GET", Route: graphemu.RouteOpenIDConf, Status: 200, Count: 1},
	}
	if d := cmp.Diff(wantT1, en.e.TenantStats(tenantID)); d != "" {
		t.Errorf("TenantStats (-want +got):\n%s", d)
	}
	for _, s := range en.e.Stats() {
		if s.Tenant != "" {
			t.Errorf("global row carries a tenant: %+v", s)
		}
	}
}

// TestResetTenantStats: resetting one tenant leaves the other tenant's
// counts and the tenant-less ones.
func TestResetTenantStats(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	tok2 := en.addTenant2(t)
	en.do(t, "GET", phonePath(kimID), en.token, "")
	en.do(t, "GET", phonePath(anaID), tok2, "")
	en.do(t, "GET", phonePath(anaID), "", "")

	en.e.ResetTenantStats(strings.ToLower(tenant2ID))
	if got := en.e.TenantStats(tenant2ID); len(got) != 0 {
		t.Fatalf("tenant 2 after its reset: %+v", got)
	}
	if got := en.e.TenantCount(tenantID, "", ""); got != 1 {
		t.Fatalf("tenant 1 after tenant 2's reset: %d calls, want 1", got)
	}
	if got := en.e.TenantCount("", "", ""); got != 1 {
		t.Fatalf("tenant-less calls after tenant 2's reset: %d, want 1", got)
	}
	if got := en.e.Count("", ""); got != 2 {
		t.Fatalf("global after tenant 2's reset: %d, want 2", got)
	}
}

// TestAdminTenantStats: ?tenant= selects one tenant's rows on GET and
// DELETE /_emulator/stats.
func TestAdminTenantStats(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, EnableAdmin: true})
	tok2 := en.addTenant2(t)
	en.do(t, "GET", phonePath(kimID), en.token, "")
	en.do(t, "GET", phonePath(anaID), tok2, "")

	var got []graphemu.Stat
	must(t, json.Unmarshal(en.admin(t, "GET", "/stats?tenant="+tenantID, "", 200), &got))
	want := []graphemu.Stat{{Tenant: tenantID, Method: "GET", Route: graphemu.RoutePhoneList, Status: 200, Count: 1}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("admin tenant stats (-want +got):\n%s", d)
	}
	en.admin(t, "DELETE", "/stats?tenant="+tenantID, "", 204)
	if b := en.admin(t, "GET", "/stats?tenant="+tenantID, "", 200); string(b) != "[]" {
		t.Fatalf("tenant 1 after admin reset: %s", b)
	}
	if en.e.TenantCount(tenant2ID, "", "") != 2 { // token + list
		t.Fatalf("tenant 2 after tenant 1's admin reset: %+v", en.e.TenantStats(tenant2ID))
	}
	if b := string(en.admin(t, "GET", "/stats", "", 200)); strings.Contains(b, `"tenant"`) {
		t.Fatalf("global admin stats show a tenant: %s", b)
	}
}
