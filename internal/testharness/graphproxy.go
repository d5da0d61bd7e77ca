/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/phoneop/phoneop/internal/selfsigned"
)

// GraphProxy is a TLS reverse proxy between the manager and the Graph emulator, for outage
// tests: Refuse closes its listener (the manager's dials get "connection refused", as when
// Graph's front door is unreachable) and Accept opens it again on the same address;
// FailTokens makes the token endpoint answer an error status while Graph keeps working. It
// serves the emulator's certificate, so the manager cannot tell it from the emulator.
type GraphProxy struct {
	// URL is the https root the EntraTenants point at when Options.GraphProxy is set.
	URL string

	addr    string
	tlsCfg  *tls.Config
	handler http.Handler

	mu          sync.Mutex
	srv         *http.Server // nil while refusing
	tokenStatus int          // 0: forward token requests
	holdWrites  time.Duration
	counts      ProxyCounts
}

// ProxyCounts are the requests that reached the proxy (a refused connection never does).
type ProxyCounts struct {
	// Token counts token requests, TokenFailed those answered with FailTokens' status.
	Token, TokenFailed int
	// Graph counts Graph calls (everything but the login authority's token and discovery),
	// GraphWrites those that are not GETs.
	Graph, GraphWrites int
	// Authority counts the login authority's other requests (discovery documents).
	Authority int
}

// GraphURL is what EntraTenants written by the harness point at: the proxy with
// Options.GraphProxy, else the emulator.
func (h *Harness) GraphURL() string {
	if h.Proxy != nil {
		return h.Proxy.URL
	}
	return h.EmulatorURL
}

// startProxy starts the proxy on a free loopback port in front of the emulator.
func (h *Harness) startProxy(context.Context) error {
	cert, err := tls.LoadX509KeyPair(h.EmulatorCert, h.emulatorKey())
	if err != nil {
		return err
	}
	target, err := url.Parse(h.EmulatorURL)
	if err != nil {
		return err
	}
	upstream, err := h.emulatorClient()
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = upstream.Transport
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	p := &GraphProxy{URL: "https://" + addr, addr: addr,
		tlsCfg: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, hold := p.count(r)
		if hold > 0 {
			time.Sleep(hold)
		}
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			// The shape of the Microsoft identity platform's error answers.
			fmt.Fprintf(w, `{"error":"temporarily_unavailable","error_description":"AADSTS50196: the server is temporarily unavailable (injected by the phoneop test proxy)","error_codes":[50196]}`)
			return
		}
		rp.ServeHTTP(w, r)
	})
	h.Proxy = p
	return p.Accept()
}

// count records a request and returns the status to fail it with (0: forward it) and how
// long to hold it first.
func (p *GraphProxy) count(r *http.Request) (int, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		p.counts.Token++
		if p.tokenStatus != 0 {
			p.counts.TokenFailed++
			return p.tokenStatus, 0
		}
	case IsGraphRoute(strings.TrimPrefix(r.URL.Path, "/v1.0")):
		p.counts.Graph++
		if r.Method != http.MethodGet {
			p.counts.GraphWrites++
			return 0, p.holdWrites
		}
	default:
		p.counts.Authority++
	}
	return 0, 0
}

// HoldWrites delays every Graph write (not GETs) by d before forwarding it, so a test can
// act between a write being sent and its answer (0: forward at once).
func (p *GraphProxy) HoldWrites(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdWrites = d
}

// Accept (re)opens the proxy's listener on its address; a no-op while it is open.
func (p *GraphProxy) Accept() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return nil
	}
	var ln net.Listener
	var err error
	// The port was ours a moment ago; a closed listener's port is free again at once (Go sets
	// SO_REUSEADDR), but retry briefly in case the kernel is slow to let go.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("graph proxy: listening again on %s: %w", p.addr, err)
	}
	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second, TLSConfig: p.tlsCfg}
	p.srv = srv
	go func() { _ = srv.Serve(tls.NewListener(ln, p.tlsCfg)) }()
	return nil
}

// Refuse closes the listener and every open connection: from now on a dial to the proxy's
// address is refused, until Accept.
func (p *GraphProxy) Refuse() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return nil
	}
	err := p.srv.Close()
	p.srv = nil
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// FailTokens makes token requests answer status (e.g. 503) without reaching the emulator;
// 0 forwards them again.
func (p *GraphProxy) FailTokens(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenStatus = status
}

// Counts returns the requests counted since the last ResetCounts.
func (p *GraphProxy) Counts() ProxyCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// ResetCounts zeroes the counts.
func (p *GraphProxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = ProxyCounts{}
}

// Close stops the proxy for good.
func (p *GraphProxy) Close() error { return p.Refuse() }

func (h *Harness) emulatorKey() string { return strings.TrimSuffix(h.EmulatorCert, ".crt") + ".key" }

// writeEmulatorCert makes the certificate and key the emulator serves (-tls-cert, -tls-key)
// when a proxy must serve the same one: valid for localhost and 127.0.0.1, its own CA.
func (h *Harness) writeEmulatorCert() error {
	c, err := selfsigned.Server("phoneop graph emulator (test harness)", 24*time.Hour)
	if err != nil {
		return err
	}
	if err := os.WriteFile(h.EmulatorCert, c.CertPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(h.emulatorKey(), c.KeyPEM, 0o600)
}
