package graph_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// Directory role listings (roles.go) against the emulator over real HTTPS.

func TestListRoleAssignments(t *testing.T) {
	f := newFixture(t)
	const role, group = "62e90394-69f5-4237-9190-012177145e10", "99999999-0000-4000-8000-0000000000aa"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.env.Emulator.AddApp(graphemu.App{TenantID: tenantA, ClientID: appID, ClientSecret: secret,
		Permissions: append(readWrite, graphemu.PermRoleManagementReadDirectory)}))
	must(f.env.Emulator.AddRoleDefinition(graphemu.RoleDefinition{TenantID: tenantA, ID: role, DisplayName: "Global Administrator", IsBuiltIn: true}))
	must(f.env.Emulator.AddGroup(graphemu.Group{TenantID: tenantA, ID: group, IsAssignableToRole: true, Members: []string{leeUPN}}))
	must(f.env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantA, PrincipalID: kimID, RoleDefinitionID: role}))
	must(f.env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantA, PrincipalID: group, RoleDefinitionID: role}))
	// 150 service principals more than fill Graph's default page of 100.
	for i := range 150 {
		must(f.env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantA, PrincipalID: fmt.Sprintf("5e000000-0000-4000-8000-%012d", i), RoleDefinitionID: role}))
	}
	must(f.env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantA, PrincipalID: leeID, RoleDefinitionID: role, Eligible: true}))
	// A principal the directory does not list as a user or group is a service principal.
	must(f.env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantA, PrincipalID: "99999999-0000-4000-8000-0000000000bb", RoleDefinitionID: role}))
	must(f.env.Emulator.AddGroup(graphemu.Group{TenantID: tenantA, ID: "99999999-0000-4000-8000-0000000000cc"}))
	if err := f.env.Emulator.AddRoleAssignment(graphemu.RoleAssignment{TenantID: tenantA, PrincipalID: "99999999-0000-4000-8000-0000000000cc", RoleDefinitionID: role}); err == nil {
		t.Error("a group that is not role-assignable was given a role")
	}
	c := f.client(t, tenantA)

	t.Run("active assignments, every page, principals typed", func(t *testing.T) {
		f.env.Emulator.ResetStats()
		types := map[string]string{}
		n := 0
		err := c.ListRoleAssignments(testContext(t), func(page []graph.RoleAssignment) error {
			for _, a := range page {
				n++
				types[a.PrincipalID] = a.Principal.Type
				if a.RoleDefinitionID != role || a.DirectoryScopeID != "/" {
					t.Errorf("assignment %+v", a)
				}
			}
			return nil
		})
		if err != nil || n != 153 {
			t.Fatalf("got %d assignments, err %v; want 153", n, err)
		}
		if got := f.env.Count(http.MethodGet, graphemu.RouteRoleAssignments); got != 2 {
			t.Errorf("%d GETs, want 2 pages", got)
		}
		if types[kimID] != "#microsoft.graph.user" || types[group] != "#microsoft.graph.group" {
			t.Errorf("principal types %q, %q", types[kimID], types[group])
		}
	})
	t.Run("eligible assignments only", func(t *testing.T) {
		var got []graph.RoleAssignment
		err := c.ListRoleEligibilities(testContext(t), func(page []graph.RoleAssignment) error {
			got = append(got, page...)
			return nil
		})
		if err != nil || len(got) != 1 || got[0].PrincipalID != leeID || got[0].IsGroup() {
			t.Fatalf("got %+v, err %v; want lee's eligibility", got, err)
		}
	})
	t.Run("without RoleManagement.Read.Directory: Forbidden", func(t *testing.T) {
		other := f.client(t, tenantB)
		for name, list := range map[string]func() error{
			"active": func() error {
				return other.ListRoleAssignments(testContext(t), func([]graph.RoleAssignment) error { return nil })
			},
			"eligible": func() error {
				return other.ListRoleEligibilities(testContext(t), func([]graph.RoleAssignment) error { return nil })
			},
		} {
			if err := list(); !graph.IsForbidden(err) {
				t.Errorf("%s: got %v, want Forbidden", name, err)
			}
		}
	})
}

func TestGetUserReadsUserType(t *testing.T) {
	f := newFixture(t)
	const guestID = "6e7b0000-0000-4000-8000-0000000000ee"
	f.env.MustAddUser(t, graphemu.User{TenantID: tenantA, ID: guestID, UserPrincipalName: "gus_fabrikam.example#EXT#@contoso.onmicrosoft.com", UserType: "Guest"})
	c := f.client(t, tenantA)
	for id, want := range map[string]string{guestID: "Guest", kimID: "Member"} {
		u, err := c.GetUser(testContext(t), id)
		if err != nil || u.UserType != want {
			t.Errorf("GetUser(%s) = %+v, %v; want userType %s", id, u, err, want)
		}
	}
}
