package graphemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// Fixtures shared by the tests: one tenant, a read-write app, a read-only
// app, an app without directory read, and three users. kim and lee are in
// the SMS sign-in policy, max is not.
const (
	tenantID  = "11111111-1111-1111-1111-111111111111"
	rwApp     = "aaaaaaaa-0000-0000-0000-000000000001"
	roApp     = "aaaaaaaa-0000-0000-0000-000000000002"
	noDirApp  = "aaaaaaaa-0000-0000-0000-000000000003"
	secret    = "s3cret"
	kimID     = "6e7b0000-0000-0000-0000-00000000000a"
	kimUPN    = "kim@contoso.com"
	leeID     = "6e7b0000-0000-0000-0000-00000000000b"
	leeUPN    = "lee@contoso.com"
	maxID     = "6e7b0000-0000-0000-0000-00000000000c"
	maxUPN    = "max@contoso.com"
	graphBase = "/v1.0/users/"
)

// clock is a settable clock so expiry, throttling and replication delay
// are tested without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a seeded emulator behind an httptest TLS server.
type env struct {
	e     *graphemu.Emulator
	srv   *httptest.Server
	clk   *clock
	token string // rwApp's token
}

// newEnv starts an emulator with the fixtures. opts.Now is replaced by a
// settable clock starting at the real time (client assertions made by
// azidentity carry real timestamps).
func newEnv(t *testing.T, opts graphemu.Options) *env {
	t.Helper()
	clk := &clock{t: time.Now()}
	opts.Now = clk.Now
	e := graphemu.New(opts)
	must(t, e.AddTenant(graphemu.Tenant{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{IncludedUsers: []string{kimID, "LEE@contoso.com"}}}))
	must(t, e.AddApp(graphemu.App{TenantID: tenantID, ClientID: rwApp, ClientSecret: secret,
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll}}))
	must(t, e.AddApp(graphemu.App{TenantID: tenantID, ClientID: roApp, ClientSecret: secret,
		Permissions: []string{graphemu.PermPhoneMethodReadAll, graphemu.PermUserReadAll}}))
	must(t, e.AddApp(graphemu.App{TenantID: tenantID, ClientID: noDirApp, ClientSecret: secret,
		Permissions: []string{graphemu.PermPhoneMethodReadWriteAll}}))
	for _, u := range [][2]string{{kimID, kimUPN}, {leeID, leeUPN}, {maxID, maxUPN}} {
		must(t, e.AddUser(graphemu.User{TenantID: tenantID, ID: u[0], UserPrincipalName: u[1]}))
	}
	srv := httptest.NewTLSServer(e)
	t.Cleanup(srv.Close)
	en := &env{e: e, srv: srv, clk: clk}
	en.token = en.getToken(t, rwApp)
	e.ResetStats()
	return en
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// getToken runs the client-credentials grant with a secret.
func (en *env) getToken(t *testing.T, clientID string) string {
	t.Helper()
	resp, body := en.form(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}})
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	must(t, json.Unmarshal(body, &tr))
	return tr.AccessToken
}

// form posts to a tenant's token endpoint.
func (en *env) form(t *testing.T, tenant string, v url.Values) (*http.Response, []byte) {
	t.Helper()
	resp, err := en.srv.Client().PostForm(en.srv.URL+"/"+tenant+"/oauth2/v2.0/token", v)
	must(t, err)
	return resp, readAll(t, resp)
}

// do sends a Graph request with a bearer token ("" for none).
func (en *env) do(t *testing.T, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := en.send(method, path, token, body, en.srv.Client())
	must(t, err)
	return resp, readAll(t, resp)
}

func (en *env) send(method, path, token, body string, c *http.Client) (*http.Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, en.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Do(req)
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return b
}

// graphErr is Graph's error envelope.
type graphErr struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

func errCode(body []byte) string {
	var g graphErr
	_ = json.Unmarshal(body, &g)
	return g.Error.Code
}

// methods reads a user's methods out of band, keyed by type.
func (en *env) methods(t *testing.T, user string) map[string]graphemu.PhoneMethod {
	t.Helper()
	ms, err := en.e.PhoneMethods(tenantID, user)
	must(t, err)
	out := map[string]graphemu.PhoneMethod{}
	for _, m := range ms {
		out[m.PhoneType] = m
	}
	return out
}

func phonePath(user string, rest ...string) string {
	return graphBase + user + "/authentication/phoneMethods" + strings.Join(rest, "")
}
