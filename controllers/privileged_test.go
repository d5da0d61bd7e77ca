package controllers

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// globalAdministrator is the built-in role's template id.
const globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// phoneMethodCalls counts the tenant's calls of the phone-method endpoints, reads included.
func (f *fixture) phoneMethodCalls() int {
	n := 0
	for _, route := range []string{graphemu.RoutePhoneList, graphemu.RoutePhoneItem, graphemu.RouteEnableSMS, graphemu.RouteDisableSMS, graphemu.RouteAuthMethods} {
		n += f.count("", route)
	}
	return n
}

// addUserWithPhone adds a user of the given userType ("" is Member) with a mobile, and
// returns its object id.
func (f *fixture) addUserWithPhone(upn, userType string) string {
	f.t.Helper()
	id := uuid.NewString()
	f.g.Expect(emu.AddUser(graphemu.User{TenantID: f.tenantID, ID: id, UserPrincipalName: upn, UserType: userType})).To(Succeed())
	f.g.Expect(emu.SetPhoneMethod(f.tenantID, id, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: "+1 4255550100"})).To(Succeed())
	return id
}

// grantRole gives a principal the Global Administrator role, active or eligible.
func (f *fixture) grantRole(principalID string, eligible bool) {
	f.t.Helper()
	f.g.Expect(emu.AddRoleDefinition(graphemu.RoleDefinition{TenantID: f.tenantID, ID: globalAdministrator, DisplayName: "Global Administrator", IsBuiltIn: true})).To(Succeed())
	f.g.Expect(emu.AddRoleAssignment(graphemu.RoleAssignment{TenantID: f.tenantID, PrincipalID: principalID, RoleDefinitionID: globalAdministrator, Eligible: eligible})).To(Succeed())
}

// seedPrivileged adds an active admin, an eligible (PIM) admin, a member of a role-assignable
// group that holds a role, a guest and a B2B account (#EXT#), each with a mobile.
func (f *fixture) seedPrivileged() map[string]string {
	f.t.Helper()
	users := map[string]string{
		"active":   f.addUserWithPhone("ada@contoso.com", ""),
		"pim":      f.addUserWithPhone("pim@contoso.com", ""),
		"member":   f.addUserWithPhone("gina@contoso.com", ""),
		"guest":    f.addUserWithPhone("gus@contoso.com", "Guest"),
		"b2b":      f.addUserWithPhone("bea_fabrikam.com#EXT#@contoso.onmicrosoft.com", ""),
		"ordinary": f.addUserWithPhone("olga@contoso.com", ""),
	}
	f.grantRole(users["active"], false)
	f.grantRole(users["pim"], true)
	group := uuid.NewString()
	f.g.Expect(emu.AddGroup(graphemu.Group{TenantID: f.tenantID, ID: group, DisplayName: "Helpdesk admins", IsAssignableToRole: true,
		Members: []string{users["member"]}})).To(Succeed())
	f.grantRole(group, false)
	return users
}

// TestPrivilegedUsersAndGuestsAreRefusedWithoutPhoneMethodCalls: an admin (active role,
// eligible role, or a role through a role-assignable group) and a guest are refused (stalled)
// before any phone-method call, not even the list; the tenant's roles are read with one call
// per listing for all of them; deleting a refused object releases it without touching Graph.
func TestPrivilegedUsersAndGuestsAreRefusedWithoutPhoneMethodCalls(t *testing.T) {
	f := newFixture(t)
	users := f.seedPrivileged()
	f.resetStats()

	cases := map[string]struct {
		user, reason string
	}{
		"an admin with an active role":                    {"ada@contoso.com", identityv1alpha1.ReasonPrivilegedUser},
		"an admin eligible for a role (PIM)":              {"pim@contoso.com", identityv1alpha1.ReasonPrivilegedUser},
		"a member of a role-assignable group with a role": {"gina@contoso.com", identityv1alpha1.ReasonPrivilegedUser},
		"a guest (userType Guest)":                        {"gus@contoso.com", identityv1alpha1.ReasonGuestUser},
		"a B2B account (#EXT# in the UPN)":                {"bea_fabrikam.com#EXT#@contoso.onmicrosoft.com", identityv1alpha1.ReasonGuestUser},
	}
	refused := map[string]*identityv1alpha1.PhoneAuthMethod{}
	for name, tc := range cases {
		p := f.pam("p"+uuid.NewString()[:8], tc.user, identityv1alpha1.PhoneTypeMobile, "+1 2065550190", deletionPolicyDelete)
		refused[name] = p
		f.create(p)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := f.withT(t)
			got := f.waitForReady(refused[name], metav1.ConditionFalse, tc.reason)
			f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus))
		})
	}
	f.g.Expect(f.phoneMethodCalls()).To(Equal(0), "a refused user's phone methods are never read or written: %+v", f.stats())
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteRoleAssignments)).To(Equal(1), "one tenant-wide read per refresh period: %+v", f.stats())
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteRoleEligibilities)).To(Equal(1), "one tenant-wide read per refresh period: %+v", f.stats())
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteGroupTransitiveUsers)).To(Equal(1), "one members read per role-holding group: %+v", f.stats())

	// Deleting a refused object (deletionPolicy Delete) releases it and leaves the phone.
	p := refused["an admin with an active role"]
	f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	waitGone(t, p)
	f.g.Expect(f.phoneMethodCalls()).To(Equal(0), "deleting a refused object touches no phone method: %+v", f.stats())
	f.g.Expect(f.graphMethod(users["active"], identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())

	// An ordinary member of the same tenant is managed as before.
	f.createReady(f.pam("olga-mobile", "olga@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550191"))
	f.g.Expect(f.graphMethod(users["ordinary"], identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550191"))
}

// TestAllowPrivilegedUsersAndGuests: a tenant that allows privileged users and guests manages
// their phones, and reads no directory role at all.
func TestAllowPrivilegedUsersAndGuests(t *testing.T) {
	f := newFixture(t, withUserScope(identityv1alpha1.UserScope{AllowPrivilegedUsers: true, AllowGuests: true}))
	users := f.seedPrivileged()
	f.resetStats()
	for i, upn := range []string{"ada@contoso.com", "pim@contoso.com", "gina@contoso.com", "gus@contoso.com"} {
		f.createReady(f.pam("allowed-"+string(rune('a'+i)), upn, identityv1alpha1.PhoneTypeMobile, "+1 2065550192"))
	}
	for _, who := range []string{"active", "pim", "member", "guest"} {
		f.g.Expect(f.graphMethod(users[who], identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550192"), who)
	}
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteRoleAssignments) + f.count(http.MethodGet, graphemu.RouteRoleEligibilities)).To(Equal(0))
}

// TestPrivilegedCheckFailsClosedWithoutPermission: without RoleManagement.Read.Directory
// phoneop cannot tell admins from others, so it refuses every user of the tenant with
// PrivilegedUsersUnknown, makes no phone-method call, and says so on the EntraTenant.
func TestPrivilegedCheckFailsClosedWithoutPermission(t *testing.T) {
	f := newFixture(t, withoutPermission(graphemu.PermRoleManagementReadDirectory))
	f.addUserWithPhone("olga@contoso.com", "")
	f.resetStats()
	p := f.pam("olga-mobile", "olga@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550193")
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonPrivilegedUsersUnknown)
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus))
	f.g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("RoleManagement.Read.Directory"))))
	f.g.Expect(f.phoneMethodCalls()).To(Equal(0), "%+v", f.stats())
	f.g.Eventually(func() []string {
		var list corev1.EventList
		_ = k8s.List(f.ctx, &list, client.InNamespace(metav1.NamespaceDefault))
		var reasons []string
		for _, e := range list.Items {
			if e.InvolvedObject.Kind == "EntraTenant" && e.InvolvedObject.Name == f.tenant {
				reasons = append(reasons, e.Reason)
			}
		}
		return reasons
	}, eventually, poll).Should(ContainElement(identityv1alpha1.ReasonPrivilegedUsersUnknown), "the EntraTenant carries a Warning saying what to grant")
}
