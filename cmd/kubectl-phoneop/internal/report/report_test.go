package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/report"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

const (
	tenantID = "7e1a2b3c-0000-4000-8000-000000000001"
	appID    = "7e1a2b3c-0000-4000-8000-0000000000a1"
	secret   = "s3cret"
)

type seeded struct {
	upn    string
	phones []string
	others []string
	sms    bool
}

// users covers every category; the namespace of a user comes from PhoneAuthMethods.
var users = []seeded{
	{upn: "kim@contoso.com", phones: []string{"mobile", "alternateMobile"}, others: []string{"password"}, sms: true}, // at risk
	{upn: "lee@contoso.com", phones: []string{"office"}},                                                             // at risk
	{upn: "max@contoso.com", phones: []string{"mobile"}, others: []string{"password", "microsoftAuthenticator"}},
	{upn: "ana@contoso.com", others: []string{"fido2", "email"}},
	{upn: "eve@contoso.com", others: []string{"password", "temporaryAccessPass"}},
	{upn: "sam@contoso.com", phones: []string{"mobile"}, others: []string{"email", "temporaryAccessPass"}}, // at risk: neither counts
}

func setup(t *testing.T) (*graph.Client, []selection.User, *graphtest.Env) {
	t.Helper()
	env := graphtest.NewEnv(t, graphemu.Options{})
	env.MustAddTenant(t, graphemu.Tenant{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{IncludedUsers: []string{"kim@contoso.com"}}})
	env.MustAddApp(t, graphemu.App{TenantID: tenantID, ClientID: appID, ClientSecret: secret,
		Permissions: []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll}})
	var sel []selection.User
	for i, u := range users {
		id := fmt.Sprintf("6e7b0000-0000-4000-8000-%012d", i)
		env.MustAddUser(t, graphemu.User{TenantID: tenantID, ID: id, UserPrincipalName: u.upn})
		for j, p := range u.phones {
			st := ""
			if u.sms && p == "mobile" {
				st = "ready"
			}
			if err := env.Emulator.SetPhoneMethod(tenantID, id, graphemu.PhoneMethod{PhoneType: p, PhoneNumber: fmt.Sprintf("+1 206555%02d%02d", i, j), SMSSignInState: st}); err != nil {
				t.Fatal(err)
			}
		}
		var ms []graphemu.AuthenticationMethod
		for _, o := range u.others {
			ms = append(ms, graphemu.AuthenticationMethod{Type: o, DisplayName: "x"})
		}
		if err := env.Emulator.SetAuthenticationMethods(tenantID, id, ms); err != nil {
			t.Fatal(err)
		}
		sel = append(sel, selection.User{ID: id, UPN: u.upn})
	}
	return emulatorClient(t, env), sel, env
}

func TestReport(t *testing.T) {
	c, sel, env := setup(t)
	ns := map[string][]string{"kim@contoso.com": {"team-a"}, "max@contoso.com": {"team-a"}}
	rep, err := report.Run(context.Background(), c, sel, "contoso", "test", "all", report.Options{Namespaces: ns})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kim@contoso.com": report.PhonesOnly, "lee@contoso.com": report.PhonesOnly, "max@contoso.com": report.PhonesAndOther,
		"ana@contoso.com": report.OtherOnly, "eve@contoso.com": report.NoMFA, "sam@contoso.com": report.PhonesOnly}
	for _, u := range rep.Listed {
		if u.Category != want[u.User] {
			t.Errorf("%s: %s, want %s", u.User, u.Category, want[u.User])
		}
	}
	if rep.AtRisk != 3 || len(rep.Counts) != 2 {
		t.Fatalf("at risk %d, counts %+v", rep.AtRisk, rep.Counts)
	}
	teamA, unmanaged := rep.Counts[0], rep.Counts[1]
	if teamA != (report.Count{Namespace: "team-a", AtRisk: 1, Mobile: 1, AlternateMobile: 1, SMSSignInReady: 1}) ||
		unmanaged != (report.Count{Namespace: report.Unmanaged, AtRisk: 2, Mobile: 1, Office: 1}) {
		t.Fatalf("counts %+v", rep.Counts)
	}
	if n := env.Count("POST", graphemu.RouteBatch); n != 1 {
		t.Fatalf("%d batches for 6 users, want 1", n)
	}
	if n := env.Count("", "") - env.Count("GET", graphemu.RouteAuthMethods) - env.Count("POST", graphemu.RouteBatch) -
		env.Count("", graphemu.RouteToken) - env.Count("", graphemu.RouteOpenIDConf); n != 0 {
		t.Fatalf("%d calls other than batched reads", n)
	}
	for format, check := range map[string]func(string) bool{
		"table": func(s string) bool {
			return strings.Contains(s, "3 with phones as their only MFA method") && strings.Contains(s, "TOTAL")
		},
		"csv": func(s string) bool {
			return strings.HasPrefix(s, "user,userId,namespace,category") && strings.Count(s, "\n") == 7
		},
		"json": func(s string) bool {
			var v map[string]any
			return json.Unmarshal([]byte(s), &v) == nil && v["atRisk"] == 3.0
		},
	} {
		var b bytes.Buffer
		if err := rep.Write(&b, format); err != nil || !check(b.String()) {
			t.Errorf("%s output (%v):\n%s", format, err, b.String())
		}
		if strings.Contains(b.String(), "+1 206") {
			t.Errorf("%s output shows a number", format)
		}
	}
}

func TestReportNeedsTheGeneralPermission(t *testing.T) {
	c, sel, env := setup(t)
	// The phone-only permission cannot list passkeys and the rest: Graph answers 403.
	env.MustAddApp(t, graphemu.App{TenantID: tenantID, ClientID: appID, ClientSecret: secret,
		Permissions: []string{graphemu.PermPhoneMethodReadAll, graphemu.PermUserReadAll}})
	_, err := report.Run(context.Background(), c, sel, "contoso", "test", "at-risk", report.Options{})
	if !graph.IsForbidden(err) {
		t.Fatalf("got %v, want Forbidden", err)
	}
}

// emulatorClient is a Graph client of the test app (appID) for the tenant, against env's
// emulator.
func emulatorClient(t *testing.T, env *graphtest.Env) *graph.Client {
	t.Helper()
	ep := graph.Endpoints{AuthorityHost: env.AuthorityHost(), GraphRoot: env.GraphRoot()}
	cred, err := graph.NewCredential(tenantID, ep, graph.CredentialSource{ClientID: appID, ClientSecret: secret}, env.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.NewClient(graph.Config{TenantID: tenantID, Cloud: graph.CloudCustom, Endpoints: ep, Credential: cred,
		HTTPClient: env.HTTPClient(), Throttles: graph.NewThrottles(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
