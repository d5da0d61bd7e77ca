package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/report"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// viewUser is a seeded user: its phones, and what the views must say of it.
type viewUser struct {
	id, upn, userType string
	phones            []graphemu.PhoneMethod
	role              string // "active" or "eligible" directory role; "" for none
}

// seedView starts an emulator tenant with users, an app holding perms, and returns a client
// and the users' selection.
func seedView(t *testing.T, users []viewUser, perms []string, faults graphemu.Faults) (*graph.Client, []selection.User, *graphtest.Env) {
	t.Helper()
	env := graphtest.NewEnv(t, graphemu.Options{Faults: faults})
	env.MustAddTenant(t, graphemu.Tenant{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}})
	env.MustAddApp(t, graphemu.App{TenantID: tenantID, ClientID: appID, ClientSecret: secret, Permissions: perms})
	if err := env.Emulator.AddRoleDefinition(graphemu.RoleDefinition{TenantID: tenantID, ID: "62e90394-69f5-4237-9190-012177145e10", DisplayName: "Global Administrator", IsBuiltIn: true}); err != nil {
		t.Fatal(err)
	}
	var sel []selection.User
	for _, u := range users {
		env.MustAddUser(t, graphemu.User{TenantID: tenantID, ID: u.id, UserPrincipalName: u.upn, UserType: u.userType})
		for _, p := range u.phones {
			if err := env.Emulator.SetPhoneMethod(tenantID, u.id, p); err != nil {
				t.Fatal(err)
			}
		}
		if u.role != "" {
			if err := env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantID, PrincipalID: u.id,
				RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", Eligible: u.role == "eligible"}); err != nil {
				t.Fatal(err)
			}
		}
		sel = append(sel, selection.User{ID: u.id, UPN: u.upn})
	}
	return emulatorClient(t, env), sel, env
}

func mobile(number, state string) graphemu.PhoneMethod {
	return graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: number, SMSSignInState: state}
}

// smsUsers: five sign in with SMS (two administrators, a guest, two members), two do not.
var smsUsers = []viewUser{
	{id: "a0000000-0000-4000-8000-000000000001", upn: "adm@contoso.com", role: "active", phones: []graphemu.PhoneMethod{mobile("+1 2065550101", "ready")}},
	{id: "a0000000-0000-4000-8000-000000000002", upn: "pim@contoso.com", role: "eligible", phones: []graphemu.PhoneMethod{mobile("+1 2065550102", "ready")}},
	{id: "a0000000-0000-4000-8000-000000000003", upn: "gst_fabrikam.com#EXT#@contoso.onmicrosoft.com", userType: "Guest", phones: []graphemu.PhoneMethod{mobile("+1 2065550103", "ready")}},
	{id: "a0000000-0000-4000-8000-000000000004", upn: "kim@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550104", "ready")}},
	{id: "a0000000-0000-4000-8000-000000000005", upn: "lee@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550105", "ready")}},
	{id: "a0000000-0000-4000-8000-000000000006", upn: "max@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550106", "notEnabled")}},
	{id: "a0000000-0000-4000-8000-000000000007", upn: "sam@contoso.com", phones: []graphemu.PhoneMethod{{PhoneType: "office", PhoneNumber: "+1 4255550100"}}},
}

// smsNamespaces: adm, the guest and kim are managed in team-a, lee in team-b.
var smsNamespaces = map[string][]string{"adm@contoso.com": {"team-a"}, "gst_fabrikam.com#ext#@contoso.onmicrosoft.com": {"team-a"},
	"kim@contoso.com": {"team-a"}, "lee@contoso.com": {"team-b"}}

func TestSMSSignInView(t *testing.T) {
	withRoles := []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll, graphemu.PermRoleManagementReadDirectory}
	cases := map[string]struct {
		perms           []string
		wantAdminsKnown bool
		wantCounts      []report.SMSCount
	}{
		"administrators told apart with RoleManagement.Read.Directory": {perms: withRoles, wantAdminsKnown: true, wantCounts: []report.SMSCount{
			{Namespace: "team-a", Administrators: 1, Guests: 1, Members: 1, Total: 3},
			{Namespace: "team-b", Members: 1, Total: 1},
			{Namespace: report.Unmanaged, Administrators: 1, Total: 1},
		}},
		"without it, administrators count as members, and the view says so": {perms: withRoles[:2], wantCounts: []report.SMSCount{
			{Namespace: "team-a", Guests: 1, Members: 2, Total: 3},
			{Namespace: "team-b", Members: 1, Total: 1},
			{Namespace: report.Unmanaged, Members: 1, Total: 1},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, sel, env := seedView(t, smsUsers, tc.perms, graphemu.Faults{})
			ctx := context.Background()
			rep, err := report.Run(ctx, c, sel, "contoso", "test", "at-risk", report.Options{Namespaces: smsNamespaces})
			if err != nil {
				t.Fatal(err)
			}
			v, err := rep.SMSSignIn(ctx, c, true)
			if err != nil {
				t.Fatal(err)
			}
			if v.SMSSignIn != 5 || v.Users != len(smsUsers) || v.AdministratorsKnown != tc.wantAdminsKnown {
				t.Errorf("%d SMS sign-in users of %d, administrators known %v; want 5 of %d, %v", v.SMSSignIn, v.Users, v.AdministratorsKnown, len(smsUsers), tc.wantAdminsKnown)
			}
			if d := cmp.Diff(tc.wantCounts, v.Counts); d != "" {
				t.Errorf("counts -want +got:\n%s", d)
			}
			if len(v.Listed) != 5 {
				t.Errorf("%d users listed, want the 5 who sign in with SMS: %+v", len(v.Listed), v.Listed)
			}
			// userType is read for the five only: one batch.
			if n := env.Count("GET", graphemu.RouteUser); n != 5 {
				t.Errorf("%d user reads, want 5 (the SMS sign-in users)", n)
			}
			for _, format := range []string{"table", "csv", "json"} {
				var b bytes.Buffer
				if err := v.Write(&b, format); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(b.String(), "206555") {
					t.Errorf("%s output shows a number:\n%s", format, b.String())
				}
			}
		})
	}
}

// sharedUsers share numbers in different forms: kim, lee and max one US number (mobile,
// alternate without the space, office with punctuation); ana and sam one UK number (ana's
// with the national trunk prefix; sam has it as mobile and office, which alone is no group);
// lee's office carries the US number with an extension (another phone); eve's is masked.
var sharedUsers = []viewUser{
	{id: "b0000000-0000-4000-8000-000000000001", upn: "kim@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550100", "")}},
	{id: "b0000000-0000-4000-8000-000000000002", upn: "lee@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550199", ""),
		{PhoneType: "alternateMobile", PhoneNumber: "+12065550100"}, {PhoneType: "office", PhoneNumber: "+1 2065550100x12"}}},
	{id: "b0000000-0000-4000-8000-000000000003", upn: "max@contoso.com", phones: []graphemu.PhoneMethod{{PhoneType: "office", PhoneNumber: "+1 (206) 555-0100"}}},
	{id: "b0000000-0000-4000-8000-000000000004", upn: "ana@contoso.com", phones: []graphemu.PhoneMethod{mobile("+44 07700900123", "")}},
	{id: "b0000000-0000-4000-8000-000000000005", upn: "sam@contoso.com", phones: []graphemu.PhoneMethod{mobile("+44 7700900123", ""), {PhoneType: "office", PhoneNumber: "+44 7700900123"}}},
	{id: "b0000000-0000-4000-8000-000000000006", upn: "eve@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550100", "")}}, // masked
	{id: "b0000000-0000-4000-8000-000000000007", upn: "joe@contoso.com", phones: []graphemu.PhoneMethod{mobile("+1 2065550177", "")}},
}

func TestSharedNumbers(t *testing.T) {
	c, sel, _ := seedView(t, sharedUsers, []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll},
		graphemu.Faults{MaskUsers: []string{"eve@contoso.com"}})
	key, err := report.NewHashKey()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Run(context.Background(), c, sel, "contoso", "test", "none", report.Options{HashKey: key,
		Namespaces: map[string][]string{"kim@contoso.com": {"team-a"}}})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.SharedNumbers()
	id := func(i int) string { return sharedUsers[i].id }
	want := []report.SharedGroup{
		{Group: 1, Size: 3, Members: []report.SharedMember{
			{User: "kim@contoso.com", UserID: id(0), Namespace: "team-a", PhoneTypes: []string{"mobile"}},
			{User: "lee@contoso.com", UserID: id(1), Namespace: report.Unmanaged, PhoneTypes: []string{"alternateMobile"}},
			{User: "max@contoso.com", UserID: id(2), Namespace: report.Unmanaged, PhoneTypes: []string{"office"}}}},
		{Group: 2, Size: 2, Members: []report.SharedMember{
			{User: "ana@contoso.com", UserID: id(3), Namespace: report.Unmanaged, PhoneTypes: []string{"mobile"}},
			{User: "sam@contoso.com", UserID: id(4), Namespace: report.Unmanaged, PhoneTypes: []string{"mobile", "office"}}}},
	}
	if d := cmp.Diff(want, v.Groups); d != "" {
		t.Errorf("groups -want +got:\n%s", d)
	}
	if v.Phones != 9 || v.Unreadable != 1 {
		t.Errorf("%d phones compared, %d not; want 9 and 1 (eve's masked)", v.Phones, v.Unreadable)
	}
	for _, format := range []string{"table", "csv", "json"} {
		var b bytes.Buffer
		if err := v.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		for _, digits := range []string{"206", "7700", "0100", "0123"} {
			if strings.Contains(b.String(), digits) {
				t.Errorf("%s output shows digits of a number (%s):\n%s", format, digits, b.String())
			}
		}
		if format == "json" {
			var out map[string]any
			if err := json.Unmarshal(b.Bytes(), &out); err != nil {
				t.Errorf("json: %v", err)
			}
		}
	}
}
