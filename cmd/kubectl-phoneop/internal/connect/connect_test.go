package connect

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// --credentials-from=manager-secret reads the EntraTenant's Secret in
// --credentials-namespace, through tenantconn, and says what to do when it cannot.
func TestConnectFromTenant(t *testing.T) {
	scheme, tenant, secret := contosoFixture(t)
	forbidSecrets := interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if _, ok := obj.(*corev1.Secret); ok {
			return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, key.Name, nil)
		}
		return c.Get(ctx, key, obj, opts...)
	}}
	cases := map[string]struct {
		objects []client.Object
		funcs   *interceptor.Funcs
		wantErr []string // substrings; none means connected
	}{
		"the EntraTenant's Secret gives a Graph client": {objects: []client.Object{tenant, secret}},
		"a missing Secret names the credentials namespace": {objects: []client.Object{tenant},
			wantErr: []string{"Secret phoneop-system/graph-app does not exist", "--credentials-namespace phoneop-system"}},
		"a Secret the kubeconfig may not read suggests azidentity": {objects: []client.Object{tenant, secret}, funcs: &forbidSecrets,
			wantErr: []string{"may not read the credential Secret", "--credentials-from=azidentity"}},
		"a missing EntraTenant says how to list them": {wantErr: []string{`EntraTenant "contoso" not found`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.objects...)
			if tc.funcs != nil {
				b = b.WithInterceptorFuncs(*tc.funcs)
			}
			conn := &Conn{Kube: b.Build(), Throttles: graph.NewThrottles(nil)}
			err := connectFromTenant(context.Background(), conn, Options{Tenant: "contoso", CredentialsNamespace: "phoneop-system"})
			if len(tc.wantErr) == 0 {
				if err != nil || conn.Graph == nil || conn.TenantID != tenant.Spec.TenantID {
					t.Fatalf("err %v, graph %v, tenant id %q", err, conn.Graph, conn.TenantID)
				}
				return
			}
			if err == nil {
				t.Fatal("connected, want an error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// The default (azidentity) takes the tenant id and cloud from the EntraTenant when the
// cluster has it, and never reads the manager's credential Secret, even when it could.
func TestConnectFromAzidentityReadsNoSecret(t *testing.T) {
	scheme, tenant, secret := contosoFixture(t)
	secretReads := 0
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tenant, secret).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				secretReads++
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.SecretList); ok {
				secretReads++
			}
			return c.List(ctx, list, opts...)
		},
	}).Build()
	t.Setenv("AZURE_TENANT_ID", tenant.Spec.TenantID)
	t.Setenv("AZURE_CLIENT_ID", "read-only-app")
	t.Setenv("AZURE_CLIENT_SECRET", "read-only-secret")
	conn := &Conn{Kube: kube, Throttles: graph.NewThrottles(nil)}
	if err := connectFromAzidentity(context.Background(), conn, Options{Tenant: "contoso", CredentialsFrom: FromAzidentity, CredentialsNamespace: "phoneop-system"}); err != nil {
		t.Fatal(err)
	}
	if conn.Graph == nil || conn.TenantID != tenant.Spec.TenantID {
		t.Fatalf("graph %v, tenant id %q: want a client for the EntraTenant's tenant", conn.Graph, conn.TenantID)
	}
	if secretReads != 0 {
		t.Fatalf("%d reads of Secrets, want none", secretReads)
	}
}

// contosoFixture is a scheme for the fake client, the EntraTenant "contoso" and its
// credential Secret in phoneop-system.
func contosoFixture(t *testing.T) (*runtime.Scheme, *identityv1alpha1.EntraTenant, *corev1.Secret) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
		TenantID: "7e1a2b3c-0000-4000-8000-000000000001",
		Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
			ClientID: "7e1a2b3c-0000-4000-8000-0000000000a1", SecretRef: identityv1alpha1.CredentialSecretReference{Name: "graph-app", Key: "clientSecret"}}}}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "phoneop-system", Name: "graph-app"}, Data: map[string][]byte{"clientSecret": []byte("s3cret")}}
	return scheme, tenant, secret
}
