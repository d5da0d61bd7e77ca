/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// startManager runs the manager binary against the harness's kubeconfig, trusting the
// emulator's certificate through SSL_CERT_FILE (Go's x509 reads it as the system roots, so
// the manager needs no test-only TLS flag), and waits for /readyz.
func (h *Harness) startManager(ctx context.Context) error {
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	probeAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	args := append([]string{
		"--kubeconfig=" + h.Kubeconfig,
		"--credentials-namespace=" + CredentialsNamespace,
		"--metrics-bind-address=" + metricsAddr,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + probeAddr,
		"--resync-period=" + h.opts.ResyncPeriod.String(),
	}, h.opts.ManagerArgs...)
	env := append([]string{"SSL_CERT_FILE=" + h.EmulatorCert, "KUBECONFIG=" + h.Kubeconfig}, h.opts.ManagerEnv...)
	p, err := startProcess("manager", h.ManagerLog, env, h.bin(ManagerBinary), args...)
	if err != nil {
		return err
	}
	h.manager = p
	h.MetricsURL = "http://" + metricsAddr + "/metrics"
	readyz := "http://" + probeAddr + "/readyz"
	return waitFor(ctx, p, h.opts.StartTimeout, "manager /readyz", func(ctx context.Context) error {
		_, err := httpGet(ctx, readyz)
		return err
	})
}

// Scrape returns the manager's /metrics page (Prometheus text format).
func (h *Harness) Scrape(ctx context.Context) (string, error) {
	b, err := httpGet(ctx, h.MetricsURL)
	return string(b), err
}

// ManagerRunning reports an error when the manager has exited, with its last log lines: a
// test that waits in vain can say why.
func (h *Harness) ManagerRunning() error {
	if h.manager == nil {
		return fmt.Errorf("the manager is not started")
	}
	return h.manager.exitedErr()
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, nil
}
