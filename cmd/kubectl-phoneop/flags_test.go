package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example:6443"}
- name: b
  cluster: {server: "https://b.example:6443"}
users:
- name: me
  user: {token: t0ken}
contexts:
- name: a
  context: {cluster: a, user: me}
- name: b
  context: {cluster: b, user: me}
current-context: a
`

// kubectl's flags (cli-runtime's ConfigFlags) reach the plugin's Kubernetes client: the
// kubeconfig and context, impersonation, and the namespace export writes to.
func TestKubectlFlagsReachTheClient(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &common{}
	root := newRoot(c)
	export, _, err := root.Find([]string{"export"})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--kubeconfig", kubeconfig, "--context", "b", "--as", "kim@contoso.com", "--as-group", "auditors", "-n", "team-a", "--request-timeout", "5s"}
	if err := export.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.kube.ToRESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://b.example:6443" {
		t.Errorf("host %q, want context b's", cfg.Host)
	}
	if cfg.Impersonate.UserName != "kim@contoso.com" || len(cfg.Impersonate.Groups) != 1 || cfg.Impersonate.Groups[0] != "auditors" {
		t.Errorf("impersonation %+v, want kim@contoso.com in auditors", cfg.Impersonate)
	}
	if got := c.namespace(); got != "team-a" {
		t.Errorf("namespace %q, want team-a", got)
	}
}

// The flags users rely on keep their names (and -n its shorthand) next to kubectl's.
func TestFlagNamesKept(t *testing.T) {
	root := newRootCommand()
	want := map[string][]string{
		"export": {"tenant", "credentials-from", "credentials-namespace", "tenant-id", "cloud", "authority-host", "graph-endpoint",
			"kubeconfig", "context", "graph-requests-per-second", "concurrency", "no-progress",
			"namespace", "output-dir", "secrets-dir", "inline-numbers", "policy", "sms-sign-in", "include-managed", "resume", "domain", "group", "users-file",
			// kubectl's
			"as", "as-group", "as-uid", "cluster", "user", "server", "token", "certificate-authority", "insecure-skip-tls-verify", "request-timeout"},
		"report": {"tenant", "kubeconfig", "context", "scope", "output", "namespace"},
	}
	for name, flags := range want {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range flags {
			if cmd.Flags().Lookup(f) == nil && cmd.InheritedFlags().Lookup(f) == nil {
				t.Errorf("%s has no --%s", name, f)
			}
		}
		if shorthand(cmd, "n") != "namespace" {
			t.Errorf("%s: -n is not --namespace", name)
		}
	}
}

func shorthand(cmd *cobra.Command, s string) string {
	if f := cmd.Flags().ShorthandLookup(s); f != nil {
		return f.Name
	}
	if f := cmd.InheritedFlags().ShorthandLookup(s); f != nil {
		return f.Name
	}
	return ""
}
