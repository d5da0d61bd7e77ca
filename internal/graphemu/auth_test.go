package graphemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/selfsigned"
)

// clientOptions points azidentity at the emulator's https authority.
func (en *env) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: en.srv.URL + "/"},
		Transport: en.srv.Client(),
	}
}

var graphScope = policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}

// useToken proves an azidentity token is accepted by Graph.
func (en *env) useToken(t *testing.T, tok string) {
	t.Helper()
	resp, body := en.do(t, "GET", phonePath(kimID), tok, "")
	if resp.StatusCode != 200 {
		t.Fatalf("graph with azidentity token: %d %s", resp.StatusCode, body)
	}
}

func TestAzidentityClientSecret(t *testing.T) {
	en := newEnv(t, graphemu.Options{})
	cred, err := azidentity.NewClientSecretCredential(tenantID, rwApp, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: en.clientOptions(), DisableInstanceDiscovery: true})
	must(t, err)
	tok, err := cred.GetToken(context.Background(), graphScope)
	must(t, err)
	en.useToken(t, tok.Token)
	if n := en.e.Count("POST", graphemu.RouteToken); n != 1 {
		t.Fatalf("token requests: %d", n)
	}
}

// selfSigned makes an RSA certificate and key as PEM, like an admin
// uploading a certificate to an app registration.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	c, err := selfsigned.Client("phoneop-test", time.Hour)
	must(t, err)
	return c.CertPEM, c.KeyPEM
}

func TestAzidentityClientCertificate(t *testing.T) {
	en := newEnv(t, graphemu.Options{})
	certPEM, keyPEM := selfSigned(t)
	const certApp = "cccccccc-0000-0000-0000-000000000001"
	must(t, en.e.AddApp(graphemu.App{TenantID: tenantID, ClientID: certApp, CertificatePEM: certPEM,
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll}}))
	certs, key, err := azidentity.ParseCertificates(append(certPEM, keyPEM...), nil)
	must(t, err)
	cred, err := azidentity.NewClientCertificateCredential(tenantID, certApp, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: en.clientOptions(), DisableInstanceDiscovery: true})
	must(t, err)
	tok, err := cred.GetToken(context.Background(), graphScope)
	must(t, err)
	en.useToken(t, tok.Token)

	// A certificate the app registration doesn't hold must not get a token.
	otherCert, otherKey := selfSigned(t)
	c2, k2, err := azidentity.ParseCertificates(append(otherCert, otherKey...), nil)
	must(t, err)
	bad, err := azidentity.NewClientCertificateCredential(tenantID, certApp, c2, k2,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: en.clientOptions(), DisableInstanceDiscovery: true})
	must(t, err)
	if _, err := bad.GetToken(context.Background(), graphScope); err == nil {
		t.Fatal("assertion signed by the wrong key was accepted")
	}
}

// TestInstanceDiscovery answers MSAL's instance discovery with this host.
func TestInstanceDiscovery(t *testing.T) {
	en := newEnv(t, graphemu.Options{})
	u, _ := url.Parse(en.srv.URL)
	resp, body := en.do(t, "GET", "/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape(en.srv.URL+"/"+tenantID+"/oauth2/v2.0/authorize"), "", "")
	if resp.StatusCode != 200 || !contains(body, u.Host) || !contains(body, tenantID+"/v2.0/.well-known/openid-configuration") {
		t.Fatalf("instance discovery: %d %s", resp.StatusCode, body)
	}
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// TestTokenEndpointErrors: Entra's OAuth2 errors for bad requests.
func TestTokenEndpointErrors(t *testing.T) {
	ok := url.Values{"grant_type": {"client_credentials"}, "client_id": {rwApp}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default openid offline_access profile"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range ok {
			c[kk] = vv
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	cases := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		code   string
	}{
		{"ok", tenantID, ok, 200, ""},
		{"unknown tenant", "22222222-2222-2222-2222-222222222222", ok, 400, "invalid_request"},
		{"unknown app", tenantID, with("client_id", "nobody"), 400, "unauthorized_client"},
		{"wrong secret", tenantID, with("client_secret", "nope"), 401, "invalid_client"},
		{"no credential", tenantID, with("client_secret", ""), 401, "invalid_client"},
		{"bad grant", tenantID, with("grant_type", "password"), 400, "unsupported_grant_type"},
		{"scope without /.default", tenantID, with("scope", "https://graph.microsoft.com/User.Read"), 400, "invalid_scope"},
		{"garbage assertion", tenantID, with("client_assertion", "a.b.c"), 401, "invalid_client"},
	}
	en := newEnv(t, graphemu.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.form
			if tc.name == "garbage assertion" {
				form = with("client_secret", "")
				form.Set("client_assertion", "a.b.c")
				form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			}
			resp, body := en.form(t, tc.tenant, form)
			if resp.StatusCode != tc.status || (tc.code != "" && !contains(body, `"error":"`+tc.code+`"`)) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
}

// TestGraphAuthErrors: 401 for missing, malformed, foreign and expired
// tokens; 403 for missing permissions.
func TestGraphAuthErrors(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, TokenTTL: time.Hour})
	other := newEnv(t, graphemu.Options{})
	ro := en.getToken(t, roApp)
	noDir := en.getToken(t, noDirApp)
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"no token", "GET", phonePath(kimID), "", "", 401, "InvalidAuthenticationToken"},
		{"malformed", "GET", phonePath(kimID), "not-a-jwt", "", 401, "InvalidAuthenticationToken"},
		{"foreign emulator", "GET", phonePath(kimID), other.token, "", 401, "InvalidAuthenticationToken"},
		{"read app reads", "GET", phonePath(kimID), ro, "", 200, ""},
		{"read app writes", "POST", phonePath(kimID), ro, create("mobile", num1), 403, "accessDenied"},
		{"read app enables", "POST", mobilePath + "/enableSmsSignIn", ro, "", 403, "accessDenied"},
		{"no directory read", "GET", graphBase + kimID, noDir, "", 403, "Authorization_RequestDenied"},
		{"phone-only app writes", "POST", phonePath(kimID), noDir, create("office", num1), 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := en.do(t, tc.method, tc.path, tc.token, tc.body)
			if resp.StatusCode != tc.status || errCode(body) != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, errCode(body), tc.status, tc.code)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		en.clk.Advance(time.Hour)
		resp, body := en.do(t, "GET", phonePath(kimID), en.token, "")
		if resp.StatusCode != 401 || errCode(body) != "InvalidAuthenticationToken" {
			t.Fatalf("expired token: %d %s", resp.StatusCode, body)
		}
	})
}

// TestErrorEnvelope: request-id, echoed client-request-id and dates.
func TestErrorEnvelope(t *testing.T) {
	en := newEnv(t, graphemu.Options{})
	req, err := http.NewRequest("GET", en.srv.URL+phonePath("nobody"), nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+en.token)
	req.Header.Set("client-request-id", "my-correlation")
	resp, err := en.srv.Client().Do(req)
	must(t, err)
	body := readAll(t, resp)
	var g graphErr
	must(t, json.Unmarshal(body, &g))
	ie := g.Error.InnerError
	switch {
	case resp.StatusCode != 404 || g.Error.Code != "Request_ResourceNotFound" || g.Error.Message == "":
		t.Fatalf("envelope: %d %s", resp.StatusCode, body)
	case ie.RequestID == "" || ie.RequestID != resp.Header.Get("request-id"):
		t.Fatalf("request-id: header %q body %q", resp.Header.Get("request-id"), ie.RequestID)
	case ie.ClientRequestID != "my-correlation" || resp.Header.Get("client-request-id") != "my-correlation":
		t.Fatalf("client-request-id not echoed: %s", body)
	case resp.Header.Get("Date") == "":
		t.Fatal("no Date header")
	}
	if _, err := time.Parse("2006-01-02T15:04:05", ie.Date); err != nil {
		t.Fatalf("innerError.date: %v", err)
	}
}
