package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// The directory every integration test starts from: two tenants with one
// app and one user each. Tenant A lets everyone use SMS sign-in.
const (
	tenantA = "aaaaaaaa-0000-4000-8000-000000000001"
	tenantB = "bbbbbbbb-0000-4000-8000-000000000002"
	appID   = "11111111-0000-4000-8000-000000000003"
	secret  = "not-a-real-secret"
	kimID   = "6e7b0000-0000-4000-8000-000000000004"
	kimUPN  = "kim@contoso.example"
	leeID   = "6e7b0000-0000-4000-8000-000000000005"
	leeUPN  = "lee@fabrikam.example"

	numberKim  = "+1 2065550100"
	numberKim2 = "+1 2065550101"
)

// readWrite is what the operator's app registration is granted.
var readWrite = []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll}

// fixture is an emulator over TLS plus the per-test throttling registry.
type fixture struct {
	env       *graphtest.Env
	throttles *graph.Throttles
	limits    graph.Limits

	mu      sync.Mutex
	onServe func(graphemu.RequestLog) // called after each answered request
}

type fixtureOption func(*fixtureConfig)

type fixtureConfig struct {
	clock graph.Clock
	opts  graphemu.Options
	wrap  []func(http.Handler) http.Handler
}

func withClock(c graph.Clock) fixtureOption { return func(fc *fixtureConfig) { fc.clock = c } }

func withWrap(w func(http.Handler) http.Handler) fixtureOption {
	return func(fc *fixtureConfig) { fc.wrap = append(fc.wrap, w) }
}

// newFixture starts an emulator seeded with both tenants. Backoff and pauses
// run on a VirtualClock unless a test brings its own clock, so no test ever
// sleeps.
func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	fc := fixtureConfig{clock: graphtest.NewVirtualClock(), opts: graphemu.Options{Seed: 1}}
	for _, o := range opts {
		o(&fc)
	}
	f := &fixture{
		throttles: graph.NewThrottles(fc.clock),
		limits:    graph.Limits{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxPause: time.Minute, MaxWait: 2 * time.Minute},
	}
	fc.opts.Log = f.log
	f.env = graphtest.NewEnv(t, fc.opts, fc.wrap...)
	for _, tn := range []struct {
		id, userID, upn string
		policy          graphemu.SMSPolicy
	}{{tenantA, kimID, kimUPN, graphemu.SMSPolicy{AllUsers: true}}, {tenantB, leeID, leeUPN, graphemu.SMSPolicy{}}} {
		f.env.MustAddTenant(t, graphemu.Tenant{ID: tn.id, SMSSignIn: tn.policy})
		f.env.MustAddApp(t, graphemu.App{TenantID: tn.id, ClientID: appID, ClientSecret: secret, Permissions: readWrite})
		f.env.MustAddUser(t, graphemu.User{TenantID: tn.id, ID: tn.userID, UserPrincipalName: tn.upn})
	}
	return f
}

// log forwards the emulator's per-request log to the test's hook.
func (f *fixture) log(l graphemu.RequestLog) {
	f.mu.Lock()
	hook := f.onServe
	f.mu.Unlock()
	if hook != nil {
		hook(l)
	}
}

// afterRequests runs fn once n Graph requests have been answered; tests use
// it to end an injected fault after exactly n failures.
func (f *fixture) afterRequests(n int, fn func()) {
	var mu sync.Mutex
	seen := 0
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onServe = func(l graphemu.RequestLog) {
		if strings.HasPrefix(l.Route, "/{tenant}") || strings.HasPrefix(l.Route, "/common") {
			return // token traffic is not Graph traffic
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen == n {
			fn()
		}
	}
}

func (f *fixture) endpoints() graph.Endpoints {
	return graph.Endpoints{AuthorityHost: f.env.AuthorityHost(), GraphRoot: f.env.GraphRoot()}
}

// credential returns a client-secret credential for tenant.
func (f *fixture) credential(t *testing.T, tenant string) azcore.TokenCredential {
	t.Helper()
	cred, err := graph.NewCredential(tenant, f.endpoints(), graph.CredentialSource{ClientID: appID, ClientSecret: secret}, f.env.HTTPClient())
	if err != nil {
		t.Fatalf("NewCredential: %v", err)
	}
	return cred
}

// client builds a Client for tenant; mods adjust the config.
func (f *fixture) client(t *testing.T, tenant string, mods ...func(*graph.Config)) *graph.Client {
	t.Helper()
	cfg := graph.Config{
		TenantID:   tenant,
		Cloud:      graph.CloudCustom,
		Endpoints:  f.endpoints(),
		HTTPClient: f.env.HTTPClient(),
		Limits:     f.limits,
		Throttles:  f.throttles,
	}
	for _, m := range mods {
		m(&cfg)
	}
	if cfg.Credential == nil {
		cfg.Credential = f.credential(t, tenant)
	}
	c, err := graph.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func noRetries(c *graph.Config) { c.Limits.MaxRetries = -1 }
func retries(n int) func(*graph.Config) {
	return func(c *graph.Config) { c.Limits.MaxRetries = n }
}

// graphCalls counts the emulator's Graph requests (token traffic excluded).
func (f *fixture) graphCalls() int {
	n := 0
	for _, s := range f.env.Emulator.Stats() {
		if strings.HasPrefix(s.Route, "/users") || s.Route == graphemu.RouteBatch {
			n += s.Count
		}
	}
	return n
}

// tokenCalls counts token-endpoint requests.
func (f *fixture) tokenCalls() int { return f.env.Count("", graphemu.RouteToken) }

// costs is the call-count report each scenario adds to; TestMain prints it.
var costs = struct {
	sync.Mutex
	lines []string
}{}

// recordCost logs what the scenario cost as the emulator counted it.
func (f *fixture) recordCost(t *testing.T) {
	t.Helper()
	var parts []string
	for _, s := range f.env.Emulator.Stats() {
		p := fmt.Sprintf("%s %s %d", s.Method, s.Route, s.Status)
		if s.Fault != "" {
			p += " [" + s.Fault + "]"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", p, s.Count))
	}
	sort.Strings(parts)
	line := fmt.Sprintf("%s: %d Graph calls, %d token requests (%s)", t.Name(), f.graphCalls(), f.tokenCalls(), strings.Join(parts, "; "))
	t.Log(line)
	costs.Lock()
	costs.lines = append(costs.lines, line)
	costs.Unlock()
}

// staticToken is a credential that hands out a fixed (invalid) token, to
// provoke Graph's 401.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

type testCtx = context.Context

// asGraphError is errors.As for *graph.Error, returning whether it matched.
func asGraphError(err error, target **graph.Error) bool { return errors.As(err, target) }
