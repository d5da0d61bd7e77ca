package graphemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// The directory listings (docs/emulator.md, "Directory"), asserted against
// Graph's documented behaviour, independent of phoneop's client.

type listPage struct {
	Context  string           `json:"@odata.context"`
	Count    *int             `json:"@odata.count"`
	NextLink string           `json:"@odata.nextLink"`
	Value    []map[string]any `json:"value"`
}

// get sends a GET with optional extra headers.
func (en *env) get(t *testing.T, path, token string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, en.srv.URL+path, nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := en.srv.Client().Do(req)
	must(t, err)
	return resp.StatusCode, readAll(t, resp)
}

// addUsers adds n users user0000@<domain> … with ids that sort in order.
func addUsers(t *testing.T, e *graphemu.Emulator, prefix, domain string, n int) {
	t.Helper()
	for i := range n {
		must(t, e.AddUser(graphemu.User{TenantID: tenantID, ID: fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, i),
			UserPrincipalName: fmt.Sprintf("user%04d@%s", i, domain)}))
	}
}

func TestListUsers(t *testing.T) {
	cases := map[string]struct {
		query      string
		header     []string
		wantStatus int
		wantCode   string
		wantCount  int // users over all pages (3 fixtures + 250 fabrikam + 5 contoso)
		wantPages  int
		wantTotal  *int // @odata.count
	}{
		"every user, pages of 100 by default": {query: "", wantStatus: 200, wantCount: 258, wantPages: 3},
		"$top sets the page size":             {query: "?$top=999", wantStatus: 200, wantCount: 258, wantPages: 1},
		"$top above 999 is refused":           {query: "?$top=1000", wantStatus: 400, wantCode: "Request_BadRequest"},
		"endsWith without the advanced query parameters is refused": {
			query: "?$filter=" + url.QueryEscape("endsWith(userPrincipalName,'@fabrikam.com')"), wantStatus: 400, wantCode: "Request_UnsupportedQuery"},
		"endsWith with ConsistencyLevel but without $count is refused": {
			query: "?$filter=" + url.QueryEscape("endsWith(userPrincipalName,'@fabrikam.com')"), header: []string{"ConsistencyLevel", "eventual"},
			wantStatus: 400, wantCode: "Request_UnsupportedQuery"},
		"endsWith as an advanced query": {
			query:  "?$count=true&$top=100&$filter=" + url.QueryEscape("endsWith(userPrincipalName,'@FABRIKAM.com')"),
			header: []string{"ConsistencyLevel", "eventual"}, wantStatus: 200, wantCount: 250, wantPages: 3, wantTotal: ptr(250)},
		"startsWith needs no advanced query": {
			query: "?$filter=" + url.QueryEscape("startsWith(userPrincipalName,'kim')"), wantStatus: 200, wantCount: 1, wantPages: 1},
		"eq on the UPN": {
			query: "?$filter=" + url.QueryEscape("userPrincipalName eq 'user0003@contoso.com'"), wantStatus: 200, wantCount: 1, wantPages: 1},
		"$count without ConsistencyLevel is refused": {query: "?$count=true", wantStatus: 400, wantCode: "Request_BadRequest"},
		"an unknown filter is refused": {
			query: "?$filter=" + url.QueryEscape("displayName eq 'Kim'"), wantStatus: 400, wantCode: "Request_UnsupportedQuery"},
		"an unsupported option is refused": {query: "?$orderby=displayName", wantStatus: 400, wantCode: "Request_UnsupportedQuery"},
	}
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	addUsers(t, en.e, "fa000000", "fabrikam.com", 250)
	addUsers(t, en.e, "c0000000", "contoso.com", 5)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := "/v1.0/users" + tc.query
			seen := map[string]bool{}
			pages := 0
			for path != "" {
				status, body := en.get(t, path, en.token, tc.header...)
				if status != tc.wantStatus {
					t.Fatalf("GET %s: status %d, want %d: %s", path, status, tc.wantStatus, body)
				}
				if status != 200 {
					if got := errCode(body); got != tc.wantCode {
						t.Fatalf("code %q, want %q", got, tc.wantCode)
					}
					return
				}
				var p listPage
				must(t, json.Unmarshal(body, &p))
				pages++
				if tc.wantTotal != nil && (p.Count == nil || *p.Count != *tc.wantTotal) {
					t.Fatalf("@odata.count = %v, want %d", p.Count, *tc.wantTotal)
				}
				for _, u := range p.Value {
					id := u["id"].(string)
					if seen[id] {
						t.Fatalf("user %s listed twice", id)
					}
					seen[id] = true
				}
				path = ""
				if p.NextLink != "" {
					if !strings.HasPrefix(p.NextLink, en.srv.URL+"/v1.0/users?") {
						t.Fatalf("nextLink %q is not on the emulator's host", p.NextLink)
					}
					path = strings.TrimPrefix(p.NextLink, en.srv.URL)
				}
			}
			if len(seen) != tc.wantCount || pages != tc.wantPages {
				t.Fatalf("%d users in %d pages, want %d in %d", len(seen), pages, tc.wantCount, tc.wantPages)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestListUsersNeedsDirectoryRead(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	status, body := en.get(t, "/v1.0/users", en.getToken(t, noDirApp))
	if status != 403 || errCode(body) != "Authorization_RequestDenied" {
		t.Fatalf("got %d %s, want 403 Authorization_RequestDenied", status, body)
	}
}

func TestGroupMembers(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.AddApp(graphemu.App{TenantID: tenantID, ClientID: "aaaaaaaa-0000-0000-0000-000000000004", ClientSecret: secret,
		Permissions: []string{graphemu.PermGroupMemberReadAll, graphemu.PermUserReadAll}}))
	must(t, en.e.AddApp(graphemu.App{TenantID: tenantID, ClientID: "aaaaaaaa-0000-0000-0000-000000000005", ClientSecret: secret,
		Permissions: []string{graphemu.PermGroupMemberReadAll}}))
	addUsers(t, en.e, "fa000000", "fabrikam.com", 150)
	var inner []string
	for i := range 150 {
		inner = append(inner, fmt.Sprintf("fa000000-0000-4000-8000-%012d", i))
	}
	must(t, en.e.LoadSeed(graphemu.Seed{Groups: []graphemu.Group{
		{TenantID: tenantID, ID: "99999999-0000-4000-8000-000000000001", DisplayName: "sales", Members: []string{kimUPN, "99999999-0000-4000-8000-000000000002"}},
		{TenantID: tenantID, ID: "99999999-0000-4000-8000-000000000002", DisplayName: "sales-emea", Members: append(inner, kimID, "99999999-0000-4000-8000-000000000001")},
	}}))
	reader := en.getToken(t, "aaaaaaaa-0000-0000-0000-000000000004")
	limited := en.getToken(t, "aaaaaaaa-0000-0000-0000-000000000005")
	const g = "/v1.0/groups/99999999-0000-4000-8000-000000000001"
	cases := map[string]struct {
		path, token          string
		wantStatus           int
		wantUsers, wantGroup int
		wantUPNs             bool
	}{
		"direct members: a user and a group":              {path: g + "/members", token: reader, wantStatus: 200, wantUsers: 1, wantGroup: 1, wantUPNs: true},
		"direct members cast to users":                    {path: g + "/members/microsoft.graph.user", token: reader, wantStatus: 200, wantUsers: 1, wantUPNs: true},
		"transitive members, each once, cycles tolerated": {path: g + "/transitiveMembers?$top=999", token: reader, wantStatus: 200, wantUsers: 151, wantGroup: 1, wantUPNs: true},
		"transitive users, paged":                         {path: g + "/transitiveMembers/microsoft.graph.user", token: reader, wantStatus: 200, wantUsers: 151, wantUPNs: true},
		"without user read, users come with ids only":     {path: g + "/transitiveMembers/microsoft.graph.user", token: limited, wantStatus: 200, wantUsers: 151},
		"without group read: 403":                         {path: g + "/members", token: en.token, wantStatus: 403},
		"an unknown group: 404":                           {path: "/v1.0/groups/99999999-0000-4000-8000-00000000000f/members", token: reader, wantStatus: 404},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			users, groups, upns := 0, 0, 0
			for path := tc.path; path != ""; {
				status, body := en.get(t, path, tc.token)
				if status != tc.wantStatus {
					t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
				}
				if status != 200 {
					return
				}
				var p listPage
				must(t, json.Unmarshal(body, &p))
				for _, o := range p.Value {
					switch o["@odata.type"] {
					case "#microsoft.graph.user":
						users++
						if o["userPrincipalName"] != nil {
							upns++
						}
					case "#microsoft.graph.group":
						groups++
					}
				}
				path = strings.TrimPrefix(p.NextLink, en.srv.URL)
			}
			if users != tc.wantUsers || groups != tc.wantGroup {
				t.Fatalf("%d users and %d groups, want %d and %d", users, groups, tc.wantUsers, tc.wantGroup)
			}
			if tc.wantUPNs != (upns == users) || (!tc.wantUPNs && upns != 0) {
				t.Fatalf("%d of %d users carry a UPN (want all: %v)", upns, users, tc.wantUPNs)
			}
		})
	}
}

func TestAuthenticationMethods(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: graphemu.Mobile, PhoneNumber: "+1 2065550100"}))
	must(t, en.e.SetAuthenticationMethods(tenantID, kimID, []graphemu.AuthenticationMethod{
		{Type: "password"}, {Type: "fido2", DisplayName: "YubiKey 5"}, {Type: "microsoftAuthenticator", DisplayName: "Kim's iPhone"}}))
	if err := en.e.SetAuthenticationMethods(tenantID, leeID, []graphemu.AuthenticationMethod{{Type: "carrierPigeon"}}); err == nil {
		t.Fatal("an unknown method type was accepted")
	}
	cases := map[string]struct {
		user, token string
		wantStatus  int
		wantTypes   []string
	}{
		"password first, then phones, then the others": {user: kimUPN, token: en.token, wantStatus: 200, wantTypes: []string{
			"#microsoft.graph.passwordAuthenticationMethod", "#microsoft.graph.phoneAuthenticationMethod",
			"#microsoft.graph.fido2AuthenticationMethod", "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"}},
		"a user without methods: an empty list":        {user: maxID, token: en.token, wantStatus: 200, wantTypes: []string{}},
		"phone-only permission cannot list the others": {user: kimID, token: en.getToken(t, roApp), wantStatus: 403},
		"an unknown user: 404":                         {user: "nobody@contoso.com", token: en.token, wantStatus: 404},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, body := en.get(t, graphBase+tc.user+"/authentication/methods", tc.token)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
			}
			if status != 200 {
				return
			}
			var p listPage
			must(t, json.Unmarshal(body, &p))
			got := []string{}
			for _, m := range p.Value {
				got = append(got, m["@odata.type"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.wantTypes, ",") {
				t.Fatalf("types %v, want %v", got, tc.wantTypes)
			}
		})
	}
}

func TestBatchOfAuthenticationMethodListsIsThrottledPerPart(t *testing.T) {
	// 0.004 of the smallest tier's 3,500 RU is a 14-RU bucket: a batch of 20 parts gets 14
	// answers and 6 throttled parts, each with its own Retry-After.
	en := newEnv(t, graphemu.Options{ThrottleScale: 0.004})
	var reqs []map[string]string
	for i := range 20 {
		reqs = append(reqs, map[string]string{"id": fmt.Sprint(i), "method": "GET", "url": "/users/" + kimID + "/authentication/methods"})
	}
	b, _ := json.Marshal(map[string]any{"requests": reqs})
	resp, body := en.do(t, http.MethodPost, "/v1.0/$batch", en.token, string(b))
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Responses []struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
		} `json:"responses"`
	}
	must(t, json.Unmarshal(body, &out))
	ok, throttled := 0, 0
	for _, r := range out.Responses {
		switch r.Status {
		case 200:
			ok++
		case 429:
			throttled++
			if r.Headers["Retry-After"] == "" {
				t.Fatal("a throttled part has no Retry-After")
			}
		}
	}
	if ok != 14 || throttled != 6 {
		t.Fatalf("%d answered and %d throttled, want 14 and 6", ok, throttled)
	}
	if n := en.e.Count(http.MethodGet, graphemu.RouteAuthMethods); n != 20 {
		t.Fatalf("%d parts counted, want 20", n)
	}
}

func TestSeedRoundTripsGroupsAndMethods(t *testing.T) {
	en := newEnv(t, graphemu.Options{})
	s := graphemu.Seed{
		Users: []graphemu.SeedUser{{User: graphemu.User{TenantID: tenantID, ID: leeID, UserPrincipalName: leeUPN},
			AuthenticationMethods: []graphemu.AuthenticationMethod{{Type: "windowsHelloForBusiness", DisplayName: "LEE-LAPTOP"}}}},
		Groups: []graphemu.Group{{TenantID: tenantID, ID: "99999999-0000-4000-8000-000000000001", DisplayName: "sales", Members: []string{leeID}}},
	}
	must(t, en.e.LoadSeed(s))
	d := en.e.Dump()
	if len(d.Groups) != 1 || d.Groups[0].DisplayName != "sales" || len(d.Groups[0].Members) != 1 {
		t.Fatalf("groups not dumped: %+v", d.Groups)
	}
	for _, u := range d.Users {
		if u.ID == leeID && (len(u.AuthenticationMethods) != 1 || u.AuthenticationMethods[0].ID == "") {
			t.Fatalf("lee's methods not dumped with an id: %+v", u.AuthenticationMethods)
		}
	}
}

// TestListUsersSelectsUserType: userType is not among Graph's default user properties; a
// listing shows it when $select names it, on every page (the nextLink keeps the $select).
func TestListUsersSelectsUserType(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.AddUser(graphemu.User{TenantID: tenantID, ID: "9e570000-0000-4000-8000-000000000001",
		UserPrincipalName: "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", UserType: "Guest"}))
	types := map[string]any{}
	for path := "/v1.0/users?$top=2&$select=id,userPrincipalName,userType"; path != ""; {
		status, body := en.get(t, path, en.token)
		if status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		var p listPage
		must(t, json.Unmarshal(body, &p))
		for _, u := range p.Value {
			types[u["userPrincipalName"].(string)] = u["userType"]
		}
		path = strings.TrimPrefix(p.NextLink, en.srv.URL)
	}
	if len(types) < 2 {
		t.Fatalf("listed %d users, want the fixtures and the guest", len(types))
	}
	for upn, ut := range types {
		want := "Member"
		if strings.Contains(upn, "#EXT#") {
			want = "Guest"
		}
		if ut != want {
			t.Errorf("%s: userType %v, want %s", upn, ut, want)
		}
	}
	_, body := en.get(t, "/v1.0/users", en.token)
	if strings.Contains(string(body), "userType") {
		t.Errorf("a listing without $select shows userType: %s", body)
	}
}
