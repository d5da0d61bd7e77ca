package graph_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestTokenAcquisition gets a token with each kind of credential the
// operator supports and uses it for a Graph call. All token traffic is
// azidentity's; the emulator checks secrets and assertion signatures.
func TestTokenAcquisition(t *testing.T) {
	const certApp = "22222222-0000-4000-8000-000000000006"
	cert := graphtest.NewCertificate(t, "phoneop-test")
	cases := map[string]struct {
		source func(t *testing.T, f *fixture) graph.CredentialSource
	}{
		"ClientSecret": {func(t *testing.T, f *fixture) graph.CredentialSource {
			return graph.CredentialSource{ClientID: appID, ClientSecret: secret}
		}},
		"CertificatePEM": {func(t *testing.T, f *fixture) graph.CredentialSource {
			return graph.CredentialSource{ClientID: certApp, CertificatePEMOrPFX: cert.BundlePEM()}
		}},
		"CertificatePKCS12Legacy": {func(t *testing.T, f *fixture) graph.CredentialSource {
			return graph.CredentialSource{ClientID: certApp, CertificatePEMOrPFX: cert.PFX(t, "hunter2", false), CertificatePassword: "hunter2"}
		}},
		"CertificatePKCS12Modern": {func(t *testing.T, f *fixture) graph.CredentialSource {
			return graph.CredentialSource{ClientID: certApp, CertificatePEMOrPFX: cert.PFX(t, "hunter2", true), CertificatePassword: "hunter2"}
		}},
		"WorkloadIdentity": {func(t *testing.T, f *fixture) graph.CredentialSource {
			path := filepath.Join(t.TempDir(), "token")
			aud := f.env.Server.URL + "/" + tenantA + "/oauth2/v2.0/token"
			if err := os.WriteFile(path, []byte(cert.FederatedToken(t, certApp, aud, time.Hour)), 0o600); err != nil {
				t.Fatal(err)
			}
			return graph.CredentialSource{ClientID: certApp, WorkloadIdentity: true, TokenFilePath: path}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.env.MustAddApp(t, graphemu.App{TenantID: tenantA, ClientID: certApp, CertificatePEM: cert.CertPEM, Permissions: readWrite})
			cred, err := graph.NewCredential(tenantA, f.endpoints(), tc.source(t, f), f.env.HTTPClient())
			if err != nil {
				t.Fatalf("NewCredential: %v", err)
			}
			c := f.client(t, tenantA, func(c *graph.Config) { c.Credential = cred })
			ctx := testContext(t)
			for range 2 {
				if _, err := c.GetUser(ctx, kimUPN); err != nil {
					t.Fatalf("GetUser: %v", err)
				}
			}
			if got := f.tokenCalls(); got != 1 {
				t.Errorf("token requests = %d, want 1 (the second call reuses the cached token)", got)
			}
			f.recordCost(t)
		})
	}
}

// TestCertificateNotRegisteredIsUnauthorized: a certificate the app does
// not know fails at the token endpoint, and no Graph call is made.
func TestCertificateNotRegisteredIsUnauthorized(t *testing.T) {
	f := newFixture(t)
	stranger := graphtest.NewCertificate(t, "stranger")
	cred, err := graph.NewCredential(tenantA, f.endpoints(), graph.CredentialSource{ClientID: appID, CertificatePEMOrPFX: stranger.BundlePEM()}, f.env.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client(t, tenantA, func(c *graph.Config) { c.Credential = cred }).GetUser(testContext(t), kimUPN)
	if !graph.IsUnauthorized(err) {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
	if f.graphCalls() != 0 {
		t.Errorf("Graph was called without a token")
	}
	f.recordCost(t)
}

// TestNewCredentialRejects covers the configuration errors reported before
// any request.
func TestNewCredentialRejects(t *testing.T) {
	cert := graphtest.NewCertificate(t, "x")
	ep := graph.Endpoints{AuthorityHost: "https://login.example/", GraphRoot: "https://graph.example"}
	cases := map[string]struct {
		tenant string
		src    graph.CredentialSource
	}{
		"no tenant":               {"", graph.CredentialSource{ClientID: appID, ClientSecret: secret}},
		"no proof":                {tenantA, graph.CredentialSource{ClientID: appID}},
		"two proofs":              {tenantA, graph.CredentialSource{ClientID: appID, ClientSecret: secret, CertificatePEMOrPFX: cert.BundlePEM()}},
		"no client id":            {tenantA, graph.CredentialSource{ClientSecret: secret}},
		"certificate garbage":     {tenantA, graph.CredentialSource{ClientID: appID, CertificatePEMOrPFX: []byte("not a certificate")}},
		"PKCS#12 wrong password":  {tenantA, graph.CredentialSource{ClientID: appID, CertificatePEMOrPFX: cert.PFX(t, "right", true), CertificatePassword: "wrong"}},
		"certificate without key": {tenantA, graph.CredentialSource{ClientID: appID, CertificatePEMOrPFX: cert.CertPEM}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := graph.NewCredential(tc.tenant, ep, tc.src, nil); err == nil {
				t.Errorf("NewCredential accepted %s", name)
			}
		})
	}
}
