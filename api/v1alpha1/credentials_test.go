package v1alpha1_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func TestTenantCredentialsUnion(t *testing.T) {
	secretRef := identityv1alpha1.CredentialSecretReference{Name: "app", Key: "clientSecret"}
	certRef := identityv1alpha1.CredentialSecretReference{Name: "app-cert", Key: "tls.pem"}
	passwordRef := identityv1alpha1.CredentialSecretReference{Name: "app-cert-password", Key: "password"}
	cases := map[string]struct {
		// credentials
		creds identityv1alpha1.TenantCredentials
		// expected outputs
		wantClientID   string
		wantSecretRefs []identityv1alpha1.CredentialSecretReference
	}{
		"a client secret reads its one Secret key": {
			creds:        identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: "secret-app", SecretRef: secretRef}},
			wantClientID: "secret-app", wantSecretRefs: []identityv1alpha1.CredentialSecretReference{secretRef}},
		"a certificate without a password reads the certificate only": {
			creds:        identityv1alpha1.TenantCredentials{ClientCertificate: &identityv1alpha1.ClientCertificateCredential{ClientID: "cert-app", SecretRef: certRef}},
			wantClientID: "cert-app", wantSecretRefs: []identityv1alpha1.CredentialSecretReference{certRef}},
		"a certificate with a password reads the certificate, then the password": {
			creds:        identityv1alpha1.TenantCredentials{ClientCertificate: &identityv1alpha1.ClientCertificateCredential{ClientID: "cert-app", SecretRef: certRef, PasswordRef: &passwordRef}},
			wantClientID: "cert-app", wantSecretRefs: []identityv1alpha1.CredentialSecretReference{certRef, passwordRef}},
		"workload identity reads no Secret": {
			creds:        identityv1alpha1.TenantCredentials{WorkloadIdentity: &identityv1alpha1.WorkloadIdentityCredential{ClientID: "wi-app"}},
			wantClientID: "wi-app"},
		"no credentials name no app and no Secret": {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.creds.ClientID(); got != tc.wantClientID {
				t.Errorf("ClientID() = %q, want %q", got, tc.wantClientID)
			}
			if diff := cmp.Diff(tc.wantSecretRefs, tc.creds.SecretRefs()); diff != "" {
				t.Errorf("SecretRefs() -want +got:\n%s", diff)
			}
		})
	}
}
