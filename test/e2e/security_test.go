/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/phoneop/phoneop/internal/testharness"
)

// The namespace-scoped example install (config/namespaced) watches team-a and team-b;
// team-z is granted by the tenant but not watched.
var (
	scopedWatched   = []string{"team-a", "team-b"}
	scopedUnwatched = "team-z"
	scopedSA        = struct{ namespace, name string }{"phoneop-system", "phoneop-controller-manager"}
)

// installRBAC renders config/namespaced as `kubectl kustomize` does and applies, for real,
// its ServiceAccount and RBAC objects (the Deployment cannot run here: the manager runs as a
// process instead, with the ServiceAccount's token).
func installRBAC(t *testing.T, hs *testharness.Harness) {
	t.Helper()
	rendered := kubectlOn(t, hs, "", "kustomize", repoPath("config", "namespaced"))
	var docs []string
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(rendered), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			break
		}
		switch u.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			b, err := yaml.Marshal(u.Object)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
	}
	if len(docs) < 8 {
		t.Fatalf("config/namespaced rendered only %d RBAC objects", len(docs))
	}
	kubectlOn(t, hs, strings.Join(docs, "---\n"), "apply", "--server-side", "-f", "-")
}

// TestNamespaceScopedManager runs the manager binary as the ServiceAccount of the
// namespace-scoped install, with exactly the RBAC config/namespaced renders, and
// --watch-namespaces=team-a,team-b:
//   - SubjectAccessReviews: the ServiceAccount cannot read a Secret or a PhoneAuthMethod in
//     team-z (which the tenant grants, but the install does not watch), nor cluster-wide;
//   - everything converges in team-a and team-b, a phoneNumberFrom Secret included, and the
//     EntraTenant connects with its credential Secret from phoneop-system;
//   - the PhoneAuthMethod in team-z is never touched: no status, no Graph call, no phone;
//   - the manager's log holds no "forbidden": it never even tries what it may not do;
//   - a manager told to watch a namespace without the RoleBinding refuses to start, naming it.
func TestNamespaceScopedManager(t *testing.T) {
	hs := isolated(t, testharness.Options{})
	ctx := context.Background()
	g := NewWithT(t)
	tenant := &testharness.Tenant{Name: "bank", Namespace: "team-a"}
	for _, ns := range append(scopedWatched, scopedUnwatched) {
		kubectlOn(t, hs, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+", labels: {"+testharness.TenantLabel+": bank}}\n", "apply", "-f", "-")
	}
	installRBAC(t, hs)

	failures, err := testharness.CheckAccess(ctx, hs.Client, scopedSA.namespace, scopedSA.name,
		testharness.NamespaceScopedAccess(scopedSA.namespace, scopedWatched, testharness.CredentialsNamespace, []string{scopedUnwatched, "default"}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(failures).To(BeEmpty())

	kubeconfig, err := hs.ServiceAccountKubeconfig(ctx, scopedSA.namespace, scopedSA.name)
	g.Expect(err).NotTo(HaveOccurred())
	// Start-up check: team-c has no RoleBinding.
	_, err = hs.StartManager(ctx, testharness.ManagerOptions{Name: "misconfigured", Kubeconfig: kubeconfig,
		Args: []string{"--watch-namespaces=team-a,team-c"}})
	g.Expect(err).To(MatchError(ContainSubstring("may not list secrets in namespace team-c")))

	m, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: "scoped", Kubeconfig: kubeconfig,
		Args: []string{"--watch-namespaces=" + strings.Join(scopedWatched, ","), "--zap-log-level=debug"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(hs.CreateTenant(ctx, tenant)).To(Succeed(), "the EntraTenant connects with its Secret in phoneop-system")

	phones := []phone{
		{name: "ana-mobile", namespace: "team-a", tenant: "bank", user: "ana@bank.example", number: "+1 2065550131"},
		{name: "bo-mobile", namespace: "team-b", tenant: "bank", user: "bo@bank.example", number: "+1 2065550132", fromSecret: "bo-phone"},
	}
	stranger := phone{name: "cy-mobile", namespace: scopedUnwatched, tenant: "bank", user: "cy@bank.example", number: "+1 2065550133", fromSecret: "cy-phone"}
	for _, p := range append(phones, stranger) {
		_, err := hs.AddUser(ctx, tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
	}
	applyPhones(t, hs, append(phones, stranger)...)
	took := waitPhonesReady(t, hs, eventually, phones...)
	t.Logf("namespace-scoped: %d phones in watched namespaces Ready in %s", len(phones), took.Round(10*time.Millisecond))
	for _, p := range phones {
		methods, err := hs.PhoneMethods(ctx, tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(methods).To(HaveLen(1))
		g.Expect(methods[0].PhoneNumber).To(Equal(p.number))
	}

	// team-z: a forced resync of the watched objects has come and gone, and still nothing.
	forceResyncOn(t, hs, phones[0])
	g.Consistently(func(g Gomega) {
		st, _, _ := readyOf(g, hs, stranger)
		g.Expect(st).To(BeEmpty(), "the manager wrote status in an unwatched namespace")
	}, 3*time.Second, 500*time.Millisecond).Should(Succeed())
	methods, err := hs.PhoneMethods(ctx, tenant.TenantID, stranger.user)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(methods).To(BeEmpty(), "a phone was written for an object in an unwatched namespace")

	g.Expect(m.Running()).To(Succeed())
	log, err := os.ReadFile(m.Log)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.ToLower(string(log))).NotTo(ContainSubstring("forbidden"),
		"the namespace-scoped manager tried something its RBAC does not allow")
}

// forceResyncOn annotates one phone with a fresh reconcile request and waits until it is
// handled.
func forceResyncOn(t *testing.T, hs *testharness.Harness, p phone) {
	t.Helper()
	value := time.Now().Format("150405.000000")
	kubectlOn(t, hs, "", "annotate", "-n", p.namespace, "pam/"+p.name, "--overwrite", "phoneop.dev/reconcile-requested-at="+value)
	kubectlOn(t, hs, "", "wait", "-n", p.namespace, "pam/"+p.name, "--timeout="+eventually.String(),
		"--for=jsonpath={.status.lastHandledReconcileAt}="+value)
}
