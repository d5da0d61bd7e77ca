/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// listeningLine is what hack/graph-emulator logs once its listener is open; the harness asks
// for port 0 and reads the real address from it, so two runs never race for a port.
var listeningLine = regexp.MustCompile(`graph-emulator listening on (https://[0-9.:\[\]]+)`)

// startEmulator starts hack/graph-emulator on a free loopback port with the admin API and
// waits until it answers over TLS with its own certificate.
func (h *Harness) startEmulator(ctx context.Context) error {
	args := []string{"-addr=127.0.0.1:0", "-admin", "-cert-out=" + h.EmulatorCert}
	if h.opts.GraphProxy {
		// The proxy must serve the emulator's certificate, so the harness makes the key.
		if err := h.writeEmulatorCert(); err != nil {
			return err
		}
		args = append(args, "-tls-cert="+h.EmulatorCert, "-tls-key="+h.emulatorKey())
	}
	if h.opts.SeedFile != "" {
		args = append(args, "-seed-file="+h.opts.SeedFile)
	}
	args = append(args, h.opts.EmulatorArgs...)
	p, err := startProcess("graph-emulator", h.EmulatorLog, nil, h.bin(EmulatorBinary), args...)
	if err != nil {
		return err
	}
	h.emulator = p
	return waitFor(ctx, p, h.opts.StartTimeout, "graph-emulator", h.emulatorReady)
}

// emulatorReady finds the address in the log, loads the certificate and reads the stats.
func (h *Harness) emulatorReady(ctx context.Context) error {
	if h.EmulatorURL == "" {
		b, _ := os.ReadFile(h.EmulatorLog)
		m := listeningLine.FindSubmatch(b)
		if m == nil {
			return errNotYet
		}
		h.EmulatorURL = string(m[1])
	}
	_, err := h.EmulatorStats(ctx)
	return err
}

// emulatorClient trusts exactly the emulator's certificate; it is rebuilt per call because
// the file appears only once the emulator is listening.
func (h *Harness) emulatorClient() (*http.Client, error) {
	pemBytes, err := os.ReadFile(h.EmulatorCert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("no certificate in %s", h.EmulatorCert)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}, nil
}

// EmulatorAdmin calls the emulator's admin API (docs/emulator.md, "Admin API"): method and
// path under /_emulator/ (e.g. "GET", "stats"), in marshalled as the JSON body when non-nil,
// the JSON answer decoded into out when non-nil. A non-2xx answer is an error.
func (h *Harness) EmulatorAdmin(ctx context.Context, method, path string, in, out any) error {
	c, err := h.emulatorClient()
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.EmulatorURL+"/_emulator/"+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		// The admin API's errors name routes, tenants and users, never numbers.
		return fmt.Errorf("emulator admin %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// SeedEmulator merges tenants, apps and users into the emulator.
func (h *Harness) SeedEmulator(ctx context.Context, s graphemu.Seed) error {
	return h.EmulatorAdmin(ctx, http.MethodPost, "seed", s, nil)
}

// AddUser adds a user to an emulated tenant and returns its new object id.
func (h *Harness) AddUser(ctx context.Context, tenantID, upn string) (string, error) {
	id := newGUID()
	u := graphemu.SeedUser{User: graphemu.User{TenantID: tenantID, ID: id, UserPrincipalName: upn}}
	return id, h.SeedEmulator(ctx, graphemu.Seed{Users: []graphemu.SeedUser{u}})
}

// PhoneMethods reads a user's phone methods out of band (not counted in the stats). The
// numbers are in clear: compare them, never log them.
func (h *Harness) PhoneMethods(ctx context.Context, tenantID, user string) ([]graphemu.PhoneMethod, error) {
	var out []graphemu.PhoneMethod
	err := h.EmulatorAdmin(ctx, http.MethodGet, userPath(tenantID, user)+"/phoneMethods", nil, &out)
	return out, err
}

// SetPhoneMethod creates or replaces a user's method out of band, bypassing Graph's rules,
// as an admin in the Entra portal would: this is how tests make drift.
func (h *Harness) SetPhoneMethod(ctx context.Context, tenantID, user, phoneType, number string) error {
	body := map[string]string{"phoneNumber": number}
	return h.EmulatorAdmin(ctx, http.MethodPut, userPath(tenantID, user)+"/phoneMethods/"+url.PathEscape(phoneType), body, nil)
}

func userPath(tenantID, user string) string {
	return "tenants/" + url.PathEscape(tenantID) + "/users/" + url.PathEscape(user)
}

// EmulatorStats reads the emulator's call counts.
func (h *Harness) EmulatorStats(ctx context.Context) (Stats, error) {
	var s Stats
	err := h.EmulatorAdmin(ctx, http.MethodGet, "stats", nil, &s)
	return s, err
}

// ResetEmulatorStats zeroes the emulator's call counts, to count one scenario.
func (h *Harness) ResetEmulatorStats(ctx context.Context) error {
	return h.EmulatorAdmin(ctx, http.MethodDelete, "stats", nil, nil)
}

// Stats are the emulator's call counts by method, route template, status and fault.
type Stats []graphemu.Stat

// IsGraphRoute tells Graph calls (phone methods, users and their listing, the privileged-user
// guard's role and group reads, the audit log, $batch) from the login authority's (token,
// discovery), which azidentity caches and which are not what an operator's Graph quota is
// spent on.
func IsGraphRoute(route string) bool {
	for _, prefix := range []string{"/users/", "/roleManagement/", "/groups/", "/auditLogs/"} {
		if strings.HasPrefix(route, prefix) {
			return true
		}
	}
	return route == "/users" || route == "/$batch" || route == "/me"
}

// Graph counts Graph calls (token and discovery requests excluded): reads are GETs,
// writes everything else.
func (s Stats) Graph() (reads, writes int) {
	for _, st := range s {
		switch {
		case !IsGraphRoute(st.Route):
		case st.Method == http.MethodGet:
			reads += st.Count
		default:
			writes += st.Count
		}
	}
	return reads, writes
}

// Count sums the calls with this method and route template ("" matches any).
func (s Stats) Count(method, route string) int {
	n := 0
	for _, st := range s {
		if (method == "" || st.Method == method) && (route == "" || st.Route == route) {
			n += st.Count
		}
	}
	return n
}

// String lists the counts one per line, "GET /users/{id}/authentication/phoneMethods 200: 3",
// sorted, for logs (route templates only: no user, no number).
func (s Stats) String() string {
	lines := make([]string, 0, len(s))
	for _, st := range s {
		fault := ""
		if st.Fault != "" {
			fault = " fault=" + st.Fault
		}
		lines = append(lines, fmt.Sprintf("%s %s %d%s: %d", st.Method, st.Route, st.Status, fault, st.Count))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
