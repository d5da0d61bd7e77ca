package controllers

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func TestCheckGrant(t *testing.T) {
	tenant := func(sel *metav1.LabelSelector, scope identityv1alpha1.UserScope) *identityv1alpha1.EntraTenant {
		return &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"},
			Spec: identityv1alpha1.EntraTenantSpec{AllowedNamespaces: sel, UserScope: scope}}
	}
	teamA := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	scoped := identityv1alpha1.UserScope{AllowedDomains: []string{"contoso.com"}, DeniedUsers: []string{"breakglass@contoso.com", "0000-admin-id"}}
	cases := map[string]struct {
		// grant inputs
		in grantInput
		// expected outputs
		wantFailed  bool
		wantMessage string
	}{
		"a selected namespace and an in-scope user pass": {
			in: grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "kim@contoso.com"}},
		"an empty selector allows every namespace": {
			in: grantInput{tenant: tenant(&metav1.LabelSelector{}, identityv1alpha1.UserScope{}), namespace: "x", user: "kim@fabrikam.com"}},
		"a nil selector allows no namespace": {
			in: grantInput{tenant: tenant(nil, identityv1alpha1.UserScope{}), namespace: "x", user: "kim@contoso.com"}, wantFailed: true, wantMessage: "does not allow namespace"},
		"an unselected namespace is refused": {
			in:         grantInput{tenant: tenant(teamA, scoped), namespace: "b", namespaceLabels: map[string]string{"team": "b"}, user: "kim@contoso.com"},
			wantFailed: true, wantMessage: `does not allow namespace "b"`},
		"a denied user is refused case-insensitively": {
			in:         grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "BreakGlass@Contoso.com"},
			wantFailed: true, wantMessage: "deniedUsers"},
		"a denied user named by object id is refused once resolved": {
			in:         grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "some-object-id", userID: "0000-ADMIN-ID"},
			wantFailed: true, wantMessage: "deniedUsers"},
		"a user of another domain is refused": {
			in:         grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "eve@fabrikam.com"},
			wantFailed: true, wantMessage: "allowedDomains"},
		"a look-alike domain is refused": {
			in:         grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "eve@evilcontoso.com"},
			wantFailed: true, wantMessage: "allowedDomains"},
		"a subdomain is allowed": {
			in: grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "kim@eu.contoso.com"}},
		"an object id is judged by its resolved UPN": {
			in:         grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "6e7b", userPrincipalName: "eve@fabrikam.com"},
			wantFailed: true, wantMessage: "allowedDomains"},
		"an unresolved object id waits for its UPN": {
			in: grantInput{tenant: tenant(teamA, scoped), namespace: "a", namespaceLabels: map[string]string{"team": "a"}, user: "6e7b"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			msg, failed := checkGrant(tc.in)
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
	in := grantInput{
		tenant: &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
			AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}},
			UserScope:         identityv1alpha1.UserScope{DeniedUsers: []string{"kim@contoso.com"}}}},
		namespace: "b", user: "kim@contoso.com",
	}
	if msg, _ := checkGrant(in); !strings.Contains(msg, "does not allow namespace") {
		t.Errorf("first failure = %q, want the namespace refusal", msg)
	}
}
