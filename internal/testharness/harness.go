/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// CredentialsNamespace is where the manager reads EntraTenant credential Secrets
// (--credentials-namespace); Start creates it.
const CredentialsNamespace = "phoneop-system"

// Options configure Start. The zero value is a working configuration.
type Options struct {
	// ModuleDir is the phoneop repository root; "" finds it by walking up from the working
	// directory to the go.mod of github.com/phoneop/phoneop.
	ModuleDir string
	// WorkDir receives the kubeconfig, the emulator certificate and the logs (and the
	// binaries unless BinDir is set); "" creates a temporary directory that Stop removes.
	WorkDir string
	// BinDir holds manager and graph-emulator already built by Build; "" builds them into
	// WorkDir, so that a run always tests the current source.
	BinDir string
	// AssetsDir holds kube-apiserver and etcd; "" uses $KUBEBUILDER_ASSETS, else the
	// directory printed by hack/control-plane.sh (which builds them on first use).
	AssetsDir string
	// SeedFile is the emulator's -seed-file; "" starts it empty (CreateTenant and
	// SeedEmulator fill it through the admin API).
	SeedFile string
	// EmulatorArgs are extra graph-emulator flags, e.g. "-latency=20ms", "-rate-429=0.05",
	// "-throttle-scale=0.1", "-no-throttle".
	EmulatorArgs []string
	// ManagerArgs are extra manager flags, e.g. "--max-concurrent-reconciles=32",
	// "--graph-requests-per-second=50", "--zap-log-level=debug".
	ManagerArgs []string
	// ManagerEnv are extra environment variables for the manager only (e.g. "GOMEMLIMIT=150MiB",
	// as a Deployment would set), never for the control plane the harness also starts.
	ManagerEnv []string
	// ResyncPeriod is the manager's --resync-period; 0 means one hour, so that a scenario
	// counting Graph calls is never disturbed by a periodic resync (force one with the
	// phoneop.dev/reconcile-requested-at annotation instead).
	ResyncPeriod time.Duration
	// StartTimeout bounds each wait for a component to become ready; 0 means 2 minutes
	// (the machines are small and shared).
	StartTimeout time.Duration
	// NoManager makes Start start no manager: the test starts its own with StartManager
	// (several replicas, another identity, RBAC applied first). ManagerLog, MetricsURL, Scrape
	// and ManagerRunning then refer to no manager.
	NoManager bool
	// GraphProxy puts a TLS proxy between the manager and the emulator (Harness.Proxy) that
	// can refuse connections or fail the token endpoint, to test outages; the EntraTenants
	// the harness writes then point at it.
	GraphProxy bool
	// Logf receives one line per step; nil discards them.
	Logf func(format string, args ...any)
}

// Harness is a running control plane, Graph emulator and manager. Its fields are read-only.
type Harness struct {
	// Dir holds everything the run writes.
	Dir string
	// Kubeconfig is the path of a kubeconfig for the control plane (cluster admin).
	Kubeconfig string
	// Config is the same identity as a rest.Config.
	Config *rest.Config
	// Client is a controller-runtime client with the phoneop API registered.
	Client client.Client
	// EmulatorURL is the emulator's https root, e.g. https://127.0.0.1:39211 (no slash).
	EmulatorURL string
	// EmulatorCert is the PEM certificate the emulator serves; trust it to talk to it.
	EmulatorCert string
	// EmulatorLog and ManagerLog are the files the processes' output goes to.
	EmulatorLog, ManagerLog string
	// MetricsURL is the manager's plain-http Prometheus endpoint (…/metrics).
	MetricsURL string
	// Proxy is the Graph proxy (Options.GraphProxy), nil without it.
	Proxy *GraphProxy
	// BinDir holds the manager and graph-emulator binaries this run uses; pass it as
	// Options.BinDir to another harness to skip the build.
	BinDir string

	opts     Options
	env      *envtest.Environment
	emulator *process
	manager  *Manager   // the default manager, nil with Options.NoManager
	managers []*Manager // every manager started, the default one included
	ownsDir  bool
}

// Start builds the binaries and starts the control plane, the emulator and the manager,
// waiting for each to be ready. On error everything already started is stopped.
func Start(ctx context.Context, o Options) (h *Harness, err error) {
	o = withDefaults(o)
	h = &Harness{opts: o}
	defer func() {
		if err != nil {
			_ = h.Stop()
			h = nil
		}
	}()
	if o.ModuleDir == "" {
		if o.ModuleDir, err = findModuleDir(); err != nil {
			return nil, err
		}
		h.opts.ModuleDir = o.ModuleDir
	}
	if err := h.makeDir(); err != nil {
		return nil, err
	}
	type step struct {
		name string
		run  func(context.Context) error
	}
	steps := []step{
		{"build manager and graph-emulator", h.build},
		{"start kube-apiserver and etcd", h.startControlPlane},
		{"start the Graph emulator", h.startEmulator},
	}
	if o.GraphProxy {
		steps = append(steps, step{"start the Graph proxy", h.startProxy})
	}
	if !o.NoManager {
		steps = append(steps, step{"start the manager", h.startManager})
	}
	for _, s := range steps {
		began := time.Now()
		if err := s.run(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		h.logf("harness: %s: done in %s", s.name, time.Since(began).Round(10*time.Millisecond))
	}
	return h, nil
}

// Stop stops the manager, the emulator and the control plane, in that order (the manager
// first, so that it never logs errors about a vanished API server), and removes the work
// directory if Start created it. It is safe to call more than once.
func (h *Harness) Stop() error {
	var errs []error
	for _, m := range h.managers {
		errs = append(errs, m.Stop())
	}
	if h.emulator != nil {
		errs = append(errs, h.emulator.stop(10*time.Second))
	}
	if h.Proxy != nil {
		errs = append(errs, h.Proxy.Close())
	}
	h.manager, h.managers, h.emulator, h.Proxy = nil, nil, nil, nil
	if h.env != nil {
		errs = append(errs, h.env.Stop())
		h.env = nil
	}
	if h.ownsDir && h.Dir != "" {
		errs = append(errs, os.RemoveAll(h.Dir))
		h.Dir = ""
	}
	return errors.Join(errs...)
}

// Kubectl returns a kubectl command bound to the harness's kubeconfig (KUBECONFIG is set,
// so nothing leaks to the user's own cluster). The caller sets stdin/stdout and runs it.
func (h *Harness) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, KubectlPath(), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+h.Kubeconfig)
	return cmd
}

// KubectlPath is the kubectl on PATH, or "kubectl" when there is none (the command then
// fails to start; CheckKubectl gives the clearer message).
func KubectlPath() string {
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p
	}
	return "kubectl"
}

// CheckKubectl reports, in a sentence a user can act on, that kubectl is missing.
func CheckKubectl() error {
	if _, err := exec.LookPath("kubectl"); err != nil {
		return errors.New("kubectl is not on PATH: install kubectl (1.30 or newer) and put it on PATH, e.g. /usr/local/bin/kubectl")
	}
	return nil
}

func withDefaults(o Options) Options {
	if o.ResyncPeriod == 0 {
		o.ResyncPeriod = time.Hour
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 2 * time.Minute
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

func (h *Harness) logf(format string, args ...any) { h.opts.Logf(format, args...) }

// makeDir creates the work directory and fixes the paths inside it.
func (h *Harness) makeDir() error {
	dir := h.opts.WorkDir
	if dir == "" {
		d, err := os.MkdirTemp("", "phoneop-harness-")
		if err != nil {
			return err
		}
		dir, h.ownsDir = d, true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h.Dir = dir
	h.Kubeconfig = filepath.Join(dir, "kubeconfig")
	h.EmulatorCert = filepath.Join(dir, "graph-emulator.crt")
	h.EmulatorLog = filepath.Join(dir, "graph-emulator.log")
	h.ManagerLog = filepath.Join(dir, "manager.log")
	return nil
}

// findModuleDir walks up from the working directory to phoneop's go.mod, so that tests
// (which run in their package directory) and `go run` (repository root) both find it.
func findModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isPhoneopModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/phoneop/phoneop above the working directory; set Options.ModuleDir")
		}
		dir = parent
	}
}

func isPhoneopModule(gomod []byte) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		if strings.TrimSpace(line) == "module github.com/phoneop/phoneop" {
			return true
		}
	}
	return false
}
