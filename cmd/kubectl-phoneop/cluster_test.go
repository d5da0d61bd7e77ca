package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

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

// The plugin asks the API server for the tenant's PhoneAuthMethods only (the CRD's selectable
// field spec.tenantRef.name), in the namespace asked for; a server that cannot filter on the
// field (400) gets a plain list, filtered here.
func TestTenantObjectsAreSelectedByTheServer(t *testing.T) {
	pam := func(ns, name, tenant string) *identityv1alpha1.PhoneAuthMethod {
		return &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenant}, User: name + "@contoso.com", PhoneType: identityv1alpha1.PhoneTypeMobile}}
	}
	objects := []client.Object{pam("team-a", "kim", "contoso"), pam("team-b", "lee", "contoso"), pam("team-a", "max", "fabrikam")}
	cases := map[string]struct {
		namespace        string
		serverCanSelect  bool
		wantObjects      []string
		wantFieldSelects bool // the first list asked the server for the tenant's objects
	}{
		"every namespace, selected by the server":    {serverCanSelect: true, wantObjects: []string{"team-a/kim", "team-b/lee"}, wantFieldSelects: true},
		"one namespace, selected by the server":      {namespace: "team-a", serverCanSelect: true, wantObjects: []string{"team-a/kim"}, wantFieldSelects: true},
		"a server that cannot select: filtered here": {wantObjects: []string{"team-a/kim", "team-b/lee"}, wantFieldSelects: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var asked []client.ListOptions
			b := fake.NewClientBuilder().WithScheme(pluginScheme(t)).WithObjects(objects...).
				WithIndex(&identityv1alpha1.PhoneAuthMethod{}, tenantField, func(o client.Object) []string {
					return []string{o.(*identityv1alpha1.PhoneAuthMethod).Spec.TenantRef.Name}
				}).
				WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
					var lo client.ListOptions
					lo.ApplyOptions(opts)
					asked = append(asked, lo)
					if lo.FieldSelector != nil && !tc.serverCanSelect {
						return apierrors.NewBadRequest(`field label not supported: spec.tenantRef.name`)
					}
					return c.List(ctx, list, opts...)
				}})
			got, err := tenantObjects(context.Background(), b.Build(), "contoso", tc.namespace)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range got {
				names = append(names, p.Namespace+"/"+p.Name)
			}
			if strings.Join(names, " ") != strings.Join(tc.wantObjects, " ") {
				t.Errorf("objects %v, want %v", names, tc.wantObjects)
			}
			first := asked[0]
			if sel := first.FieldSelector; tc.wantFieldSelects && (sel == nil || sel.String() != "spec.tenantRef.name=contoso") {
				t.Errorf("the list asked for field selector %v, want spec.tenantRef.name=contoso", sel)
			}
			for _, lo := range asked {
				if lo.Namespace != tc.namespace {
					t.Errorf("listed namespace %q, want %q", lo.Namespace, tc.namespace)
				}
			}
		})
	}
}

func pluginScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := identityv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
