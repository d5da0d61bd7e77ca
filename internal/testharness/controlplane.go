/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// startControlPlane starts kube-apiserver and etcd with the CRDs installed, writes the
// kubeconfig and creates the credentials namespace.
func (h *Harness) startControlPlane(ctx context.Context) error {
	assets, err := h.assetsDir(ctx)
	if err != nil {
		return err
	}
	h.env = &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join(h.opts.ModuleDir, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: h.opts.StartTimeout,
	}
	if h.Config, err = h.env.Start(); err != nil {
		return err
	}
	// envtest renders a kubeconfig for its admin user (client certificate, system:masters).
	if err := os.WriteFile(h.Kubeconfig, h.env.KubeConfig, 0o600); err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	if h.Client, err = client.New(h.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: CredentialsNamespace}}
	return client.IgnoreAlreadyExists(h.Client.Create(ctx, ns))
}

// assetsDir picks the kube-apiserver/etcd directory: Options, then KUBEBUILDER_ASSETS (what
// `make test` sets), then hack/control-plane.sh, which prints the cached directory at once
// or builds the binaries on first use.
func (h *Harness) assetsDir(ctx context.Context) (string, error) {
	if h.opts.AssetsDir != "" {
		return h.opts.AssetsDir, nil
	}
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d, nil
	}
	h.logf("harness: KUBEBUILDER_ASSETS is unset; asking hack/control-plane.sh (first run builds kube-apiserver, ~10 min)")
	cmd := exec.CommandContext(ctx, filepath.Join(h.opts.ModuleDir, "hack", "control-plane.sh"))
	cmd.Dir = h.opts.ModuleDir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/control-plane.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
