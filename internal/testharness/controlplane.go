/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
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
	// A certificate directory of our own (not a temporary one envtest removes on stop) keeps
	// the serving and service-account keys across RestartAPIServer.
	// A fresh start begins with an empty one: a benchmark's work dir is reused from run to
	// run, and envtest does not start on the certificates a previous run left there.
	certDir := filepath.Join(h.Dir, "kube-apiserver")
	if err := os.RemoveAll(certDir); err != nil {
		return err
	}
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	h.env = &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join(h.opts.ModuleDir, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: h.opts.StartTimeout,
	}
	h.env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir}
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

// StopAPIServer stops kube-apiserver (etcd keeps running, with everything stored); the
// manager's watches and requests fail until StartAPIServer. kube-apiserver closes its
// listener at once but may take longer than envtest's stop timeout to drain long-running
// requests, in which case envtest kills it: either way it is down when this returns.
func (h *Harness) StopAPIServer() error {
	err := h.env.ControlPlane.APIServer.Stop()
	if err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		return err
	}
	u, perr := url.Parse(h.Config.Host)
	if perr != nil {
		return perr
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, derr := net.DialTimeout("tcp", u.Host, time.Second)
		if derr != nil {
			return nil
		}
		_ = c.Close()
	}
	return fmt.Errorf("kube-apiserver still accepts connections on %s after being stopped (%v)", u.Host, err)
}

// StartAPIServer starts kube-apiserver again on the same address with the same certificates
// and keys, so every kubeconfig and token the run handed out stays valid, and waits until it
// serves.
func (h *Harness) StartAPIServer() error {
	return h.env.ControlPlane.APIServer.Start()
}

// ServiceAccountKubeconfig writes a kubeconfig that authenticates as ServiceAccount
// namespace/name with a bound token (TokenRequest, one hour), creating the ServiceAccount if
// it does not exist, and returns its path: run a manager with it (ManagerOptions.Kubeconfig)
// to exercise exactly the RBAC an install grants that ServiceAccount.
func (h *Harness) ServiceAccountKubeconfig(ctx context.Context, namespace, name string) (string, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if err := client.IgnoreAlreadyExists(h.Client.Create(ctx, sa)); err != nil {
		return "", err
	}
	seconds := int64(3600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
	if err := h.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: h.Config.Host, CertificateAuthorityData: h.Config.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: name}
	cfg.CurrentContext = "default"
	path := filepath.Join(h.Dir, "kubeconfig-"+namespace+"-"+name)
	return path, clientcmd.WriteToFile(*cfg, path)
}
