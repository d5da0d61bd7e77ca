package tenantconn

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

func TestSecretSourceRead(t *testing.T) {
	secret := func(ns, name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	ref := func(name, key string) identityv1alpha1.CredentialSecretReference {
		return identityv1alpha1.CredentialSecretReference{Name: name, Key: key}
	}
	password := ref("cert-password", "password")
	cases := map[string]struct {
		// inputs
		creds   identityv1alpha1.TenantCredentials
		secrets []*corev1.Secret
		// expected outputs
		want        graph.CredentialSource
		wantCredErr string // an ErrCredentials containing this; "" means no error
	}{
		"a client secret is read from the operator's namespace": {
			creds:   identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: "app", SecretRef: ref("graph-app", "clientSecret")}},
			secrets: []*corev1.Secret{secret("phoneop-system", "graph-app", map[string]string{"clientSecret": "s3cret"})},
			want:    graph.CredentialSource{ClientID: "app", ClientSecret: "s3cret"}},
		"a certificate and its password are both read": {
			creds: identityv1alpha1.TenantCredentials{ClientCertificate: &identityv1alpha1.ClientCertificateCredential{ClientID: "app", SecretRef: ref("cert", "tls.pem"), PasswordRef: &password}},
			secrets: []*corev1.Secret{secret("phoneop-system", "cert", map[string]string{"tls.pem": "PEM"}),
				secret("phoneop-system", "cert-password", map[string]string{"password": "pw"})},
			want: graph.CredentialSource{ClientID: "app", CertificatePEMOrPFX: []byte("PEM"), CertificatePassword: "pw"}},
		"workload identity reads no Secret": {
			creds: identityv1alpha1.TenantCredentials{WorkloadIdentity: &identityv1alpha1.WorkloadIdentityCredential{ClientID: "app"}},
			want:  graph.CredentialSource{ClientID: "app", WorkloadIdentity: true}},
		"a Secret in an application namespace is not used": {
			creds:       identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: "app", SecretRef: ref("graph-app", "clientSecret")}},
			secrets:     []*corev1.Secret{secret("team-a", "graph-app", map[string]string{"clientSecret": "s3cret"})},
			wantCredErr: "Secret phoneop-system/graph-app does not exist"},
		"a missing key is named": {
			creds:       identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: "app", SecretRef: ref("graph-app", "clientSecret")}},
			secrets:     []*corev1.Secret{secret("phoneop-system", "graph-app", map[string]string{"other": "x"})},
			wantCredErr: `has no key "clientSecret"`},
		"a missing password Secret fails the certificate": {
			creds:       identityv1alpha1.TenantCredentials{ClientCertificate: &identityv1alpha1.ClientCertificateCredential{ClientID: "app", SecretRef: ref("cert", "tls.pem"), PasswordRef: &password}},
			secrets:     []*corev1.Secret{secret("phoneop-system", "cert", map[string]string{"tls.pem": "PEM"})},
			wantCredErr: "cert-password does not exist"},
		"no credentials say which to set": {
			wantCredErr: "sets no credentials"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := fake.NewClientBuilder()
			for _, s := range tc.secrets {
				b = b.WithObjects(s)
			}
			tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{Credentials: tc.creds}}
			got, _, err := SecretSource{Reader: b.Build(), Namespace: "phoneop-system"}.Read(context.Background(), tenant)
			var credErr *ErrCredentials
			switch {
			case tc.wantCredErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantCredErr != "" && (!errors.As(err, &credErr) || !strings.Contains(err.Error(), tc.wantCredErr)):
				t.Fatalf("error %v, want an ErrCredentials containing %q", err, tc.wantCredErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credential source -want +got:\n%s", diff)
			}
		})
	}
}

// TestACustomCloudIsRefusedWithoutTheSwitch: an EntraTenant editor could point cloud Custom's
// endpoints anywhere, so without --allow-custom-cloud the connector refuses before it reads the
// Secret (the reader here fails the test if it is asked) or sends anything.
func TestACustomCloudIsRefusedWithoutTheSwitch(t *testing.T) {
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "lab", UID: "u1"},
		Spec: identityv1alpha1.EntraTenantSpec{TenantID: "t", Cloud: identityv1alpha1.CloudCustom,
			AuthorityHost: "https://login.attacker.example/", GraphEndpoint: "https://graph.attacker.example",
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID: "c", SecretRef: identityv1alpha1.CredentialSecretReference{Name: "s", Key: "k"}}}}}
	c := &Connector{Reader: refusingReader{t}, Namespace: "phoneop-system"}
	_, err := c.Connect(context.Background(), tenant)
	var credErr *ErrCredentials
	if !errors.As(err, &credErr) || credErr.Reason != identityv1alpha1.ReasonCustomCloudRefused || !strings.Contains(err.Error(), "--allow-custom-cloud") {
		t.Fatalf("Connect = %v, want a CustomCloudRefused error naming --allow-custom-cloud", err)
	}
}

// refusingReader fails the test on any read.
type refusingReader struct{ t *testing.T }

func (r refusingReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	r.t.Fatal("the Secret was read")
	return nil
}

func (r refusingReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	r.t.Fatal("Secrets were listed")
	return nil
}
