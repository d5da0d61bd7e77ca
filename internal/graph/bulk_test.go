package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// Bulk reads (batch.go, users.go, methods.go) against the emulator over real HTTPS.

func withEmulator(f func(*graphemu.Options)) fixtureOption {
	return func(fc *fixtureConfig) { f(&fc.opts) }
}

// seedUsers adds n users u000@<domain>… to tenantA, each with a mobile.
func seedUsers(t *testing.T, f *fixture, domain string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012d", len(domain), i)
		f.env.MustAddUser(t, graphemu.User{TenantID: tenantA, ID: id, UserPrincipalName: fmt.Sprintf("u%03d@%s", i, domain)})
		if err := f.env.Emulator.SetPhoneMethod(tenantA, id, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: fmt.Sprintf("+1 20655%05d", i)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestListUsers(t *testing.T) {
	cases := map[string]struct {
		query     graph.UserQuery
		wantUsers int
		wantPages int // GET /users calls
	}{
		"every user, Graph's largest pages": {query: graph.UserQuery{}, wantUsers: 1 + 7 + 5, wantPages: 1},
		"every user, pages of 4":            {query: graph.UserQuery{PageSize: 4}, wantUsers: 13, wantPages: 4},
		"one domain, as an advanced query":  {query: graph.UserQuery{Domain: "fabrikam.example", PageSize: 2}, wantUsers: 7, wantPages: 4},
		"a domain given with its @":         {query: graph.UserQuery{Domain: "@contoso.example"}, wantUsers: 1 + 5, wantPages: 1},
		"a domain nobody has":               {query: graph.UserQuery{Domain: "example.org"}, wantUsers: 0, wantPages: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			seedUsers(t, f, "fabrikam.example", 7)
			seedUsers(t, f, "contoso.example", 5)
			c := f.client(t, tenantA)
			f.env.Emulator.ResetStats()
			seen := map[string]bool{}
			err := c.ListUsers(testContext(t), tc.query, func(us []graph.User) error {
				for _, u := range us {
					if seen[u.ID] || u.UserPrincipalName == "" {
						t.Errorf("user %+v listed twice or without a UPN", u)
					}
					seen[u.ID] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != tc.wantUsers {
				t.Errorf("%d users, want %d", len(seen), tc.wantUsers)
			}
			if n := f.env.Count(http.MethodGet, graphemu.RouteUsers); n != tc.wantPages {
				t.Errorf("%d pages read, want %d", n, tc.wantPages)
			}
			f.recordCost(t)
		})
	}
}

func TestListGroupUsers(t *testing.T) {
	f := newFixture(t)
	ids := seedUsers(t, f, "fabrikam.example", 3)
	if err := f.env.Emulator.AddApp(graphemu.App{TenantID: tenantA, ClientID: appID, ClientSecret: secret,
		Permissions: append(readWrite, graphemu.PermGroupMemberReadAll)}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.env.Emulator.AddGroup(graphemu.Group{TenantID: tenantA, ID: "99999999-0000-4000-8000-000000000001", Members: []string{kimUPN, "99999999-0000-4000-8000-000000000002"}}))
	must(f.env.Emulator.AddGroup(graphemu.Group{TenantID: tenantA, ID: "99999999-0000-4000-8000-000000000002", Members: ids}))
	c := f.client(t, tenantA)
	for name, tc := range map[string]struct {
		transitive bool
		want       int
	}{"direct members only": {false, 1}, "nested groups too": {true, 4}} {
		t.Run(name, func(t *testing.T) {
			n := 0
			err := c.ListGroupUsers(testContext(t), "99999999-0000-4000-8000-000000000001", tc.transitive, func(us []graph.User) error {
				n += len(us)
				return nil
			})
			if err != nil || n != tc.want {
				t.Fatalf("got %d users, err %v; want %d", n, err, tc.want)
			}
		})
	}
	t.Run("an unknown group is NotFound", func(t *testing.T) {
		err := c.ListGroupUsers(testContext(t), "99999999-0000-4000-8000-00000000000f", true, func([]graph.User) error { return nil })
		if !graph.IsNotFound(err) {
			t.Fatalf("got %v, want NotFound", err)
		}
	})
	t.Run("without GroupMember.Read.All: Forbidden", func(t *testing.T) {
		other := f.client(t, tenantB)
		err := other.ListGroupUsers(testContext(t), "99999999-0000-4000-8000-000000000001", true, func([]graph.User) error { return nil })
		if !graph.IsForbidden(err) {
			t.Fatalf("got %v, want Forbidden", err)
		}
	})
}

// A next link to another host is never followed: the bearer token would go with it.
func TestListUsersRefusesForeignNextLink(t *testing.T) {
	f := newFixture(t, withWrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1.0/users" {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"value":[],"@odata.nextLink":"https://attacker.example/v1.0/users?$skiptoken=x"}`)
		})
	}))
	err := f.client(t, tenantA).ListUsers(testContext(t), graph.UserQuery{}, func([]graph.User) error { return nil })
	var ge *graph.Error
	if !asGraphError(err, &ge) || ge.Code != "foreignNextLink" || !graph.IsTerminal(err) {
		t.Fatalf("got %v, want a Terminal foreignNextLink", err)
	}
}

func TestListPhoneMethodsBatch(t *testing.T) {
	cases := map[string]struct {
		opts         func(*graphemu.Options)
		mods         []func(*graph.Config)
		users        int
		wantAnswered int
		wantFailed   func(error) bool
		want429Parts bool
	}{
		"twenty users in one batch": {users: 20, wantAnswered: 20},
		"throttled parts are sent again after Retry-After": {
			// 0.01 of 3,500 RU: 35 RU refilling 3.5/s, so the second batch of 20 meets 429s.
			opts: func(o *graphemu.Options) { o.ThrottleScale = 0.01 }, users: 40, wantAnswered: 40, want429Parts: true},
		"throttled parts without retries fail Throttled": {
			opts: func(o *graphemu.Options) { o.ThrottleScale = 0.01 }, mods: []func(*graph.Config){noRetries},
			users: 40, wantAnswered: 35, wantFailed: graph.IsThrottled, want429Parts: true},
		"a missing user fails NotFound, alone": {users: 19, wantAnswered: 19, wantFailed: graph.IsNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			clock := graphtest.NewVirtualClock()
			opts := []fixtureOption{withClock(clock), withEmulator(func(o *graphemu.Options) { o.Now = clock.Now })}
			if tc.opts != nil {
				opts = append(opts, withEmulator(tc.opts))
			}
			f := newFixture(t, opts...)
			ids := seedUsers(t, f, "fabrikam.example", tc.users)
			if tc.wantFailed != nil && tc.users < 20 {
				ids = append(ids, "00000000-0000-4000-8000-0000000000ff")
			}
			c := f.client(t, tenantA, tc.mods...)
			f.env.Emulator.ResetStats()
			answered := 0
			for start := 0; start < len(ids); start += graph.MaxBatchParts {
				res, err := c.ListPhoneMethodsBatch(testContext(t), ids[start:min(start+graph.MaxBatchParts, len(ids))])
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					switch {
					case r.Err == nil && len(r.Methods) == 1 && r.Methods[0].PhoneType == "mobile":
						answered++
					case r.Err == nil:
						t.Errorf("user %s: %d methods", r.UserID, len(r.Methods))
					case tc.wantFailed == nil || !tc.wantFailed(r.Err):
						t.Errorf("user %s: %v", r.UserID, r.Err)
					}
				}
			}
			if answered != tc.wantAnswered {
				t.Errorf("%d users answered, want %d", answered, tc.wantAnswered)
			}
			throttled := 0
			for _, s := range f.env.Emulator.Stats() {
				if s.Status == http.StatusTooManyRequests {
					throttled += s.Count
				}
			}
			if (throttled > 0) != tc.want429Parts {
				t.Errorf("%d parts answered 429, want some: %v", throttled, tc.want429Parts)
			}
			if tc.want429Parts && tc.mods == nil && len(clock.Waits()) == 0 {
				t.Error("the client never waited for Retry-After")
			}
			f.recordCost(t)
		})
	}
}

// A batch is 20 reads: it spends request tokens, never the write budget.
func TestBatchSpendsNoWriteBudget(t *testing.T) {
	f := newFixture(t)
	ids := seedUsers(t, f, "fabrikam.example", 20)
	c := f.client(t, tenantA, func(cfg *graph.Config) { cfg.Limits.WritesPerSecond, cfg.Limits.WriteBurst = 0.0001, 1 })
	ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
	defer cancel()
	for range 3 {
		if _, err := c.ListPhoneMethodsBatch(ctx, ids); err != nil {
			t.Fatalf("a batch waited for the write budget: %v", err)
		}
	}
}

func TestBatchEnvelopeFailure(t *testing.T) {
	f := newFixture(t, withEmulator(func(o *graphemu.Options) { o.Faults.Rate5xx = 1 }))
	c := f.client(t, tenantA, retries(1))
	_, err := c.ListPhoneMethodsBatch(testContext(t), []string{kimID})
	if !graph.IsTransient(err) {
		t.Fatalf("got %v, want Transient", err)
	}
	if n := f.env.Count(http.MethodPost, graphemu.RouteBatch); n != 2 {
		t.Fatalf("%d envelopes sent, want 2 (one retry)", n)
	}
}

func TestBatchRefusesMoreThanTwentyParts(t *testing.T) {
	f := newFixture(t)
	_, err := f.client(t, tenantA).ListPhoneMethodsBatch(testContext(t), make([]string, 21))
	if !graph.IsTerminal(err) || f.graphCalls() != 0 {
		t.Fatalf("got %v after %d calls, want a Terminal error and no call", err, f.graphCalls())
	}
}

func TestListAuthenticationMethods(t *testing.T) {
	f := newFixture(t)
	if err := f.env.Emulator.SetPhoneMethod(tenantA, kimID, graphemu.PhoneMethod{PhoneType: "office", PhoneNumber: "+1 4255550100x12"}); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Emulator.SetAuthenticationMethods(tenantA, kimID, []graphemu.AuthenticationMethod{{Type: "password"}, {Type: "fido2", DisplayName: "YubiKey"}}); err != nil {
		t.Fatal(err)
	}
	c := f.client(t, tenantA)
	one, err := c.ListAuthenticationMethods(testContext(t), kimUPN)
	if err != nil {
		t.Fatal(err)
	}
	batched, err := c.ListAuthenticationMethodsBatch(testContext(t), []string{kimID, leeID})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range one {
		kinds = append(kinds, m.Kind())
	}
	if strings.Join(kinds, ",") != "password,phone,fido2" || one[1].PhoneType != "office" {
		t.Fatalf("kinds %v (%+v)", kinds, one)
	}
	if batched[0].Err != nil || len(batched[0].Methods) != 3 || !graph.IsNotFound(batched[1].Err) {
		t.Fatalf("batched: %+v", batched)
	}
}

// A failed part keeps Graph's request-id and never the message or body.
func TestBatchPartErrorIsSafe(t *testing.T) {
	f := newFixture(t, withWrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1.0/$batch" {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			_, _ = io.Copy(io.Discard, rec.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"responses":[{"id":"0","status":400,"headers":{"request-id":"rid-1"},"body":{"error":{"code":"badRequest","message":"+1 2065550100 is bad"}}}]}`)
		})
	}))
	res, err := f.client(t, tenantA).ListPhoneMethodsBatch(testContext(t), []string{kimID})
	if err != nil {
		t.Fatal(err)
	}
	var ge *graph.Error
	if !asGraphError(res[0].Err, &ge) || ge.RequestID != "rid-1" || !graph.IsTerminal(res[0].Err) {
		t.Fatalf("part error %v", res[0].Err)
	}
	if bytes.Contains([]byte(res[0].Err.Error()), []byte("2065550100")) {
		t.Fatalf("the error leaks the message: %v", res[0].Err)
	}
}
