package tenantconn

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func TestEvaluateGrant(t *testing.T) {
	tenant := func(sel *metav1.LabelSelector, scope identityv1alpha1.UserScope) *identityv1alpha1.EntraTenant {
		return &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"},
			Spec: identityv1alpha1.EntraTenantSpec{AllowedNamespaces: sel, UserScope: scope}}
	}
	teamA := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	scoped := identityv1alpha1.UserScope{AllowedDomains: []string{"contoso.com"}, DeniedUsers: []string{"breakglass@contoso.com", "0000-admin-id"}}
	cases := map[string]struct {
		// grant inputs
		in GrantInput
		// expected outputs
		wantFailed  bool
		wantMessage string
	}{
		"a selected namespace and an in-scope user pass": {
			in: GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "kim@contoso.com"}},
		"an empty selector allows every namespace": {
			in: GrantInput{Tenant: tenant(&metav1.LabelSelector{}, identityv1alpha1.UserScope{}), Namespace: "x", User: "kim@fabrikam.com"}},
		"a nil selector allows no namespace": {
			in: GrantInput{Tenant: tenant(nil, identityv1alpha1.UserScope{}), Namespace: "x", User: "kim@contoso.com"}, wantFailed: true, wantMessage: "does not allow namespace"},
		"an unselected namespace is refused": {
			in:         GrantInput{Tenant: tenant(teamA, scoped), Namespace: "b", NamespaceLabels: map[string]string{"team": "b"}, User: "kim@contoso.com"},
			wantFailed: true, wantMessage: `does not allow namespace "b"`},
		"a denied user is refused case-insensitively": {
			in:         GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "BreakGlass@Contoso.com"},
			wantFailed: true, wantMessage: "deniedUsers"},
		"a denied user named by object id is refused once resolved": {
			in:         GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "some-object-id", UserID: "0000-ADMIN-ID"},
			wantFailed: true, wantMessage: "deniedUsers"},
		"a user of another domain is refused": {
			in:         GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "eve@fabrikam.com"},
			wantFailed: true, wantMessage: "allowedDomains"},
		"a look-alike domain is refused": {
			in:         GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "eve@evilcontoso.com"},
			wantFailed: true, wantMessage: "allowedDomains"},
		"a subdomain is allowed": {
			in: GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "kim@eu.contoso.com"}},
		"an object id is judged by its resolved UPN": {
			in:         GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "6e7b", UserPrincipalName: "eve@fabrikam.com"},
			wantFailed: true, wantMessage: "allowedDomains"},
		"an unresolved object id waits for its UPN": {
			in: GrantInput{Tenant: tenant(teamA, scoped), Namespace: "a", NamespaceLabels: map[string]string{"team": "a"}, User: "6e7b"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			msg, failed := EvaluateGrant(tc.in)
			if failed != tc.wantFailed {
				t.Fatalf("failed = %v, want %v (message %q)", failed, tc.wantFailed, msg)
			}
			if !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("message %q does not contain %q", msg, tc.wantMessage)
			}
		})
	}
}

// TestGrantCheckOrder pins the chain's order: a namespace refusal wins over a user refusal, so
// an ungranted namespace learns nothing about the tenant's user scope.
func TestGrantCheckOrder(t *testing.T) {
	in := GrantInput{
		Tenant: &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
			AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}},
			UserScope:         identityv1alpha1.UserScope{DeniedUsers: []string{"kim@contoso.com"}}}},
		Namespace: "b", User: "kim@contoso.com",
	}
	if msg, _ := EvaluateGrant(in); !strings.Contains(msg, "does not allow namespace") {
		t.Errorf("first failure = %q, want the namespace refusal", msg)
	}
}

// TestEvaluateUserGrant: the user checks alone judge a user whatever the namespace, so that
// kubectl-phoneop export leaves out exactly the users the manager would refuse.
func TestEvaluateUserGrant(t *testing.T) {
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
		UserScope: identityv1alpha1.UserScope{AllowedDomains: []string{"contoso.com"}, DeniedUsers: []string{"breakglass@contoso.com"}}}}
	cases := map[string]struct {
		in          GrantInput
		wantMessage string // "" means allowed
	}{
		"an in-scope user passes though no namespace is granted": {in: GrantInput{Tenant: tenant, User: "kim@contoso.com"}},
		"a denied user is refused":                               {in: GrantInput{Tenant: tenant, User: "breakglass@contoso.com"}, wantMessage: "deniedUsers"},
		"a user of another domain is refused":                    {in: GrantInput{Tenant: tenant, User: "6e7b", UserPrincipalName: "eve@fabrikam.com", UserID: "6e7b"}, wantMessage: "allowedDomains"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			msg, failed := EvaluateUserGrant(tc.in)
			if failed != (tc.wantMessage != "") || !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("EvaluateUserGrant = %q, %v; want a refusal containing %q", msg, failed, tc.wantMessage)
			}
		})
	}
}
