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
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ManagerOptions configure one manager process started with StartManager.
type ManagerOptions struct {
	// Name tells replicas apart: the log is manager-<Name>.log ("" = "manager", manager.log).
	Name string
	// Args are extra flags, after Options.ManagerArgs (a later flag wins), e.g.
	// "--leader-elect" or "--watch-namespaces=team-a".
	Args []string
	// Env are extra environment variables, after Options.ManagerEnv.
	Env []string
	// Kubeconfig is the identity the manager uses; "" is the harness's cluster admin. See
	// ServiceAccountKubeconfig for running it as an install's ServiceAccount.
	Kubeconfig string
}

// Manager is one running manager process. Its fields are read-only.
type Manager struct {
	// Name is ManagerOptions.Name, or "manager".
	Name string
	// Log is the file its output goes to.
	Log string
	// MetricsURL is its plain-http Prometheus endpoint (…/metrics).
	MetricsURL string

	p *process
}

// StartManager runs one more manager binary against the harness's control plane and
// emulator (trusting the emulator's certificate through SSL_CERT_FILE, so the manager needs no
// test-only TLS flag) and waits for its /readyz. Options.NoManager and StartManager together
// run managers under other identities, or several replicas. Stop stops every manager started.
func (h *Harness) StartManager(ctx context.Context, mo ManagerOptions) (*Manager, error) {
	name := mo.Name
	if name == "" {
		name = "manager"
	}
	log := filepath.Join(h.Dir, "manager.log")
	if mo.Name != "" {
		log = filepath.Join(h.Dir, "manager-"+mo.Name+".log")
	}
	kubeconfig := mo.Kubeconfig
	if kubeconfig == "" {
		kubeconfig = h.Kubeconfig
	}
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	probeAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--credentials-namespace=" + CredentialsNamespace,
		"--metrics-bind-address=" + metricsAddr,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + probeAddr,
		"--resync-period=" + h.opts.ResyncPeriod.String(),
		// The emulated tenants are cloud Custom (the emulator's endpoints).
		"--allow-custom-cloud",
	}
	args = append(append(args, h.opts.ManagerArgs...), mo.Args...)
	env := append([]string{"SSL_CERT_FILE=" + h.EmulatorCert, "KUBECONFIG=" + kubeconfig}, h.opts.ManagerEnv...)
	p, err := startProcess(name, log, append(env, mo.Env...), h.bin(ManagerBinary), args...)
	if err != nil {
		return nil, err
	}
	m := &Manager{Name: name, Log: log, MetricsURL: "http://" + metricsAddr + "/metrics", p: p}
	h.managers = append(h.managers, m)
	readyz := "http://" + probeAddr + "/readyz"
	err = waitFor(ctx, p, h.opts.StartTimeout, name+" /readyz", func(ctx context.Context) error {
		_, err := httpGet(ctx, readyz)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// startManager starts the default manager (Start, unless Options.NoManager).
func (h *Harness) startManager(ctx context.Context) error {
	m, err := h.StartManager(ctx, ManagerOptions{})
	if err != nil {
		return err
	}
	h.manager, h.ManagerLog, h.MetricsURL = m, m.Log, m.MetricsURL
	return nil
}

// Scrape returns the default manager's /metrics page (Prometheus text format).
func (h *Harness) Scrape(ctx context.Context) (string, error) {
	if h.manager == nil {
		return "", fmt.Errorf("the manager is not started")
	}
	return h.manager.Scrape(ctx)
}

// ManagerRunning reports an error when the default manager has exited, with its last log
// lines: a test that waits in vain can say why.
func (h *Harness) ManagerRunning() error {
	if h.manager == nil {
		return fmt.Errorf("the manager is not started")
	}
	return h.manager.Running()
}

// Scrape returns the manager's /metrics page (Prometheus text format).
func (m *Manager) Scrape(ctx context.Context) (string, error) {
	b, err := httpGet(ctx, m.MetricsURL)
	return string(b), err
}

// Running reports an error, with the last log lines, once the manager has exited.
func (m *Manager) Running() error { return m.p.exitedErr() }

// Stop asks the manager to shut down (SIGTERM) and waits; it is killed after 10 s.
func (m *Manager) Stop() error { return m.p.stop(10 * time.Second) }

// Kill ends the manager at once (SIGKILL), as a node failure or an OOM kill would: no
// graceful shutdown, no released Lease.
func (m *Manager) Kill() error {
	select {
	case <-m.p.done:
		return nil
	default:
	}
	if err := m.p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-m.p.done
	return nil
}

// Metric returns the sum of the samples of a metric family on the manager's /metrics page
// whose labels include every label="value" pair given (e.g. `code="error"`); 0 when none.
func (m *Manager) Metric(ctx context.Context, family string, labels ...string) (float64, error) {
	page, err := m.Scrape(ctx)
	if err != nil {
		return 0, err
	}
	return SumMetric(page, family, labels...), nil
}

// SumMetric sums the samples of family on a Prometheus text page whose label set contains
// every given label="value" pair.
func SumMetric(page, family string, labels ...string) float64 {
	sum := 0.0
	for _, line := range strings.Split(page, "\n") {
		if !strings.HasPrefix(line, family) || strings.HasPrefix(line, "#") {
			continue
		}
		rest := line[len(family):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // another family with this prefix
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(rest[strings.LastIndex(rest, " ")+1:], &v); err == nil {
			sum += v
		}
	}
	return sum
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
