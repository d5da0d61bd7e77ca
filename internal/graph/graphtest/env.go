package graphtest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// Env is a Graph emulator behind a real TLS server, closed when the test
// ends. One server is both the login authority and the Graph root, as
// CloudCustom endpoints expect.
type Env struct {
	Emulator *graphemu.Emulator
	Server   *httptest.Server
}

// NewEnv starts an emulator with opts. wrap, if given, sits in front of it,
// for tests that need to bend an answer the emulator would not give.
func NewEnv(t testing.TB, opts graphemu.Options, wrap ...func(http.Handler) http.Handler) *Env {
	t.Helper()
	e := graphemu.New(opts)
	var h http.Handler = e
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewUnstartedServer(h)
	// Connections cut by fault injection and by Close are expected; their
	// log lines would only bury real failures.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &Env{Emulator: e, Server: srv}
}

// AuthorityHost is the login authority, with the trailing slash azidentity
// expects.
func (e *Env) AuthorityHost() string { return e.Server.URL + "/" }

// GraphRoot is the Graph root (without /v1.0).
func (e *Env) GraphRoot() string { return e.Server.URL }

// HTTPClient trusts the server's certificate. Each call returns a new
// client over the same transport.
func (e *Env) HTTPClient() *http.Client { return e.Server.Client() }

// MustAddTenant adds a tenant or fails the test.
func (e *Env) MustAddTenant(t testing.TB, tn graphemu.Tenant) {
	t.Helper()
	if err := e.Emulator.AddTenant(tn); err != nil {
		t.Fatalf("add tenant: %v", err)
	}
}

// MustAddApp registers an app or fails the test.
func (e *Env) MustAddApp(t testing.TB, a graphemu.App) {
	t.Helper()
	if err := e.Emulator.AddApp(a); err != nil {
		t.Fatalf("add app: %v", err)
	}
}

// MustAddUser adds a user or fails the test.
func (e *Env) MustAddUser(t testing.TB, u graphemu.User) {
	t.Helper()
	if err := e.Emulator.AddUser(u); err != nil {
		t.Fatalf("add user: %v", err)
	}
}

// Count sums the emulator's calls for method and route ("" matches all).
func (e *Env) Count(method, route string) int { return e.Emulator.Count(method, route) }
