package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// namespaceNote warns by the manager's own namespace check (internal/tenantconn).
func TestNamespaceNote(t *testing.T) {
	kube := fake.NewClientBuilder().WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"team": "a"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b", Labels: map[string]string{"team": "b"}}},
	).Build()
	tenant := func(sel *metav1.LabelSelector) *identityv1alpha1.EntraTenant {
		return &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{AllowedNamespaces: sel}}
	}
	teamA := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	cases := map[string]struct {
		tenant    *identityv1alpha1.EntraTenant
		namespace string
		want      string // "" means no note
	}{
		"a selected namespace needs no note":       {tenant: tenant(teamA), namespace: "team-a"},
		"an unselected namespace is warned about":  {tenant: tenant(teamA), namespace: "team-b", want: `warning: EntraTenant "contoso" does not allow namespace "team-b"`},
		"a tenant that allows no namespace warns":  {tenant: tenant(nil), namespace: "team-a", want: "does not allow namespace"},
		"a missing namespace says to create it":    {tenant: tenant(teamA), namespace: "team-c", want: "note: namespace team-c does not exist"},
		"without the EntraTenant nothing is known": {namespace: "team-b"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := namespaceNote(context.Background(), kube, tc.tenant, tc.namespace)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("namespaceNote = %q, want %q", got, tc.want)
			}
		})
	}
}
