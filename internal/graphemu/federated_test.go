package graphemu_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/phoneop/phoneop/internal/graphemu"
)

const (
	ficApp     = "fed00000-0000-0000-0000-000000000001"
	ficSubject = "system:serviceaccount:phoneop-system:phoneop-controller-manager"
)

// issuer is a Kubernetes-like service-account token issuer: OIDC discovery and a JWKS over
// HTTPS, RS256 tokens with a key id, as kube-apiserver serves them.
type issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	kid string
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	is := &issuer{key: key, kid: "k8s-key-1"}
	mux := http.NewServeMux()
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/openid/v1/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": is.kid,
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	})
	return is
}

// token signs claims as kube-apiserver signs a projected token (aud is a list).
func (is *issuer) token(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid})
	body, _ := json.Marshal(claims)
	input := b64(hdr) + "." + b64(body)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	must(t, err)
	return input + "." + b64(sig)
}

// saClaims are a valid projected service-account token's claims for ficSubject.
func (is *issuer) saClaims(now time.Time) map[string]any {
	return map[string]any{"iss": is.srv.URL, "sub": ficSubject, "aud": []string{graphemu.WorkloadIdentityAudience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// newFederatedEnv registers ficApp with one federated identity credential trusting is, and
// no secret or certificate.
func newFederatedEnv(t *testing.T, is *issuer) *env {
	t.Helper()
	en := newEnv(t, graphemu.Options{IssuerClient: is.srv.Client()})
	must(t, en.e.AddApp(graphemu.App{TenantID: tenantID, ClientID: ficApp,
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll},
		FederatedCredentials: []graphemu.FederatedCredential{{Name: "phoneop", Issuer: is.srv.URL,
			Subject: ficSubject, Audiences: []string{graphemu.WorkloadIdentityAudience}}}}))
	return en
}

func (en *env) exchange(t *testing.T, assertion string) (*http.Response, []byte) {
	t.Helper()
	return en.form(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {ficApp},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion}, "scope": {"https://graph.microsoft.com/.default"}})
}

// TestFederatedAccepts exchanges a service-account token for a Graph token that Graph accepts.
func TestFederatedAccepts(t *testing.T) {
	is := newIssuer(t)
	en := newFederatedEnv(t, is)
	resp, body := en.exchange(t, is.token(t, is.key, is.kid, is.saClaims(time.Now())))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token exchange: %d %s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	must(t, json.Unmarshal(body, &tr))
	en.useToken(t, tr.AccessToken)
}

// TestFederatedRefusals sends one assertion per way Entra refuses one, each over HTTP, and
// checks the AADSTS code and that no token is issued.
func TestFederatedRefusals(t *testing.T) {
	is := newIssuer(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	now := time.Now()
	with := func(k string, v any) map[string]any {
		c := is.saClaims(now)
		c[k] = v
		return c
	}
	cases := map[string]struct {
		assertion string
		wantCode  int
	}{
		"another namespace's service account":        {is.token(t, is.key, is.kid, with("sub", "system:serviceaccount:default:phoneop-controller-manager")), 700213},
		"subject differs only in case":               {is.token(t, is.key, is.kid, with("sub", strings.ToUpper(ficSubject))), 700213},
		"the API server's audience":                  {is.token(t, is.key, is.kid, with("aud", []string{"https://kubernetes.default.svc"})), 700212},
		"another issuer":                             {is.token(t, is.key, is.kid, with("iss", "https://oidc.example.com/other")), 700211},
		"signed by a key the issuer never published": {is.token(t, otherKey, "unknown-kid", is.saClaims(now)), 7000272},
		"a published key id over a forged signature": {is.token(t, otherKey, is.kid, is.saClaims(now)), 50027},
		"expired an hour ago":                        {is.token(t, is.key, is.kid, with("exp", now.Add(-time.Hour).Unix())), 700024},
		"not valid for another hour":                 {is.token(t, is.key, is.kid, with("nbf", now.Add(time.Hour).Unix())), 700024},
		"not a JWT":                                  {"not.a-jwt.at-all", 50027},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newFederatedEnv(t, is)
			resp, body := en.exchange(t, tc.assertion)
			var ae struct {
				ErrorCodes  []int  `json:"error_codes"`
				AccessToken string `json:"access_token"`
			}
			must(t, json.Unmarshal(body, &ae))
			if resp.StatusCode/100 != 4 || ae.AccessToken != "" || len(ae.ErrorCodes) != 1 || ae.ErrorCodes[0] != tc.wantCode {
				t.Fatalf("got %d %s, want a refusal with AADSTS%d", resp.StatusCode, body, tc.wantCode)
			}
		})
	}
}

// TestFederatedNeedsACredential: an app with only a secret refuses a federated assertion with
// the generic AADSTS70021.
func TestFederatedNeedsACredential(t *testing.T) {
	is := newIssuer(t)
	en := newEnv(t, graphemu.Options{IssuerClient: is.srv.Client()})
	resp, body := en.form(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {rwApp},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {is.token(t, is.key, is.kid, is.saClaims(time.Now()))}, "scope": {"https://graph.microsoft.com/.default"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "AADSTS70021:") {
		t.Fatalf("got %d %s, want AADSTS70021", resp.StatusCode, body)
	}
}

// TestFederatedIssuerUnreachable: keys that cannot be fetched refuse the token (AADSTS90061).
func TestFederatedIssuerUnreachable(t *testing.T) {
	is := newIssuer(t)
	en := newFederatedEnv(t, is)
	assertion := is.token(t, is.key, is.kid, is.saClaims(time.Now()))
	is.srv.Close()
	resp, body := en.exchange(t, assertion)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "AADSTS90061:") {
		t.Fatalf("got %d %s, want AADSTS90061", resp.StatusCode, body)
	}
}

// TestAzidentityWorkloadIdentity is the manager's own path: azidentity's
// WorkloadIdentityCredential reads the projected token from a file and exchanges it.
func TestAzidentityWorkloadIdentity(t *testing.T) {
	is := newIssuer(t)
	en := newFederatedEnv(t, is)
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	must(t, os.WriteFile(file, []byte(is.token(t, is.key, is.kid, is.saClaims(time.Now()))), 0o600))
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: en.clientOptions(), ClientID: ficApp, TenantID: tenantID, TokenFilePath: file,
		DisableInstanceDiscovery: true})
	must(t, err)
	tok, err := cred.GetToken(context.Background(), graphScope)
	must(t, err)
	en.useToken(t, tok.Token)
}
