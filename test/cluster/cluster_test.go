/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/statuskey"
)

// TestInstalls installs phoneop each way a user does, one after the other, and checks it works
// in a real cluster: the shipped securityContext under the restricted Pod Security Standard,
// probes, convergence against Graph (the emulator) from inside a pod.
func TestInstalls(t *testing.T) {
	c := kube(t)
	e := startEmulator(t)

	t.Run("config/default", func(t *testing.T) {
		apply(t, c, install{name: "config/default", rendered: renderKustomize(t, filepath.Join(repoRoot, "config/default"))}, e)
		// Objects 0-2 converge first, 3-199 are onboarded while the manager is killed, 200
		// comes after the kubelet restart, 201-205 around the leader hand-over.
		tn := newTenant(t, e, "kustomize", 206)
		converge(t, c, e, tn, 3)
		t.Run("metrics over HTTPS: metrics-reader allowed, others refused", func(t *testing.T) {
			checkMetrics(t, "phoneop-metrics-reader")
		})
		t.Run("pods cannot reach beyond the node", func(t *testing.T) {
			checkNoUplink(t)
		})
		t.Run("manager container killed mid-onboarding", func(t *testing.T) {
			killMidOnboarding(t, c, e, tn, 3, 200)
		})
		t.Run("kubelet restarted under running pods", func(t *testing.T) {
			restartKubelet(t, c, e, tn, 201)
		})
		t.Run("leader hand-over", func(t *testing.T) {
			handOver(t, c, e, tn, 201)
		})
	})

	t.Run("chart", func(t *testing.T) {
		apply(t, c, install{name: "chart", rendered: renderChart(t, "image.tag=dev"), createNamespace: true}, e)
		converge(t, c, e, newTenant(t, e, "chart", 3), 3)
	})

	t.Run("config/namespaced", func(t *testing.T) {
		namespaceScoped(t, c, e)
	})

	t.Run("chart with workload identity", func(t *testing.T) {
		workloadIdentity(t, c, e)
	})
}

// --- metrics ---------------------------------------------------------------------------------

// checkMetrics scrapes the manager's metrics Service from two pods: one whose ServiceAccount
// is bound to the install's metrics-reader ClusterRole (answered 200) and one without (403).
// The manager checks each token with TokenReview and SubjectAccessReview.
func checkMetrics(t *testing.T, readerRole string) {
	const ns = "metrics-probe"
	kubectl(t, "", "create", "namespace", ns)
	t.Cleanup(func() { _, _ = kubectlErr("", "delete", "namespace", ns, "--wait=false") })
	kubectl(t, "", "-n", ns, "create", "serviceaccount", "scraper")
	kubectl(t, "", "-n", ns, "create", "serviceaccount", "stranger")
	kubectl(t, "", "create", "clusterrolebinding", "e2e-scraper", "--clusterrole="+readerRole, "--serviceaccount="+ns+":scraper")
	t.Cleanup(func() { _, _ = kubectlErr("", "delete", "clusterrolebinding", "e2e-scraper") })
	url := "https://phoneop-controller-manager-metrics-service.phoneop-system.svc:8443/metrics"
	for sa, want := range map[string]string{"scraper": "status=200", "stranger": "status=403"} {
		got := probe(t, ns, "scrape-as-"+sa, sa, "-insecure", url)
		t.Logf("metrics scraped as %s: %s", sa, got)
		if got != want {
			t.Errorf("metrics as ServiceAccount %s: %q, want %q", sa, got, want)
		}
	}
}

// checkNoUplink shows the node's network namespace has no way out: a pod's request to an
// address beyond the node (the TEST-NET-2 documentation range, never routed anywhere real)
// gets no answer, while the same pod reaches the API server.
func checkNoUplink(t *testing.T) {
	const ns = "uplink-probe"
	kubectl(t, "", "create", "namespace", ns)
	t.Cleanup(func() { _, _ = kubectlErr("", "delete", "namespace", ns, "--wait=false") })
	poll(t, time.Minute, "default ServiceAccount", func() (bool, error) {
		_, err := kubectlErr("", "-n", ns, "get", "serviceaccount", "default")
		return err == nil, err
	})
	if got := probe(t, ns, "inside", "default", "https://kubernetes.default.svc/version"); got != "status=200" {
		t.Errorf("pod to the API server: %q, want status=200", got)
	}
	got := probe(t, ns, "outside", "default", "-insecure", "https://198.51.100.1/")
	t.Logf("pod to 198.51.100.1: %s", got)
	if !strings.HasPrefix(got, "error=") {
		t.Errorf("a pod reached 198.51.100.1 (%q): the node is not isolated", got)
	}
}

// probe runs hack/cluster/kprobe in a pod (restricted securityContext) as the ServiceAccount,
// waits for it to finish and returns its answer line. The pod asks for the account's token
// itself: phoneop's ServiceAccount turns automounting off (its own pod mounts the token
// explicitly), and a probe standing in for the manager must do the same.
func probe(t *testing.T, ns, name, serviceAccount string, args ...string) string {
	t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  serviceAccountName: %s
  automountServiceAccountToken: true
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: kprobe
    image: e2e.local/tools:1
    imagePullPolicy: Never
    command: ["/kprobe", %s]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`, name, ns, serviceAccount, strings.Join(quoted, ", "))
	kubectl(t, pod, "apply", "-f", "-")
	poll(t, time.Minute, "pod "+name+" finished", func() (bool, error) {
		phase, err := kubectlErr("", "-n", ns, "get", "pod", name, "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded" || phase == "Failed", fmt.Errorf("phase %q: %v", phase, err)
	})
	return strings.TrimSpace(kubectl(t, "", "-n", ns, "logs", name))
}

// --- namespace-scoped install ----------------------------------------------------------------

// namespaceScoped installs config/namespaced (watching team-a and team-b), converges objects
// in team-a, and shows the manager's own ServiceAccount token, from a pod, can list Secrets in
// team-a but not read one in a namespace it does not watch.
func namespaceScoped(t *testing.T, c client.Client, e *emulator) {
	tn := newTenant(t, e, "scoped", 3)
	tn.Namespace = "team-a"
	kubectl(t, "", "create", "namespace", "team-b")
	t.Cleanup(func() { _, _ = kubectlErr("", "delete", "namespace", "team-b", "--wait=false") })
	kubectl(t, "", "create", "namespace", "team-a")
	kubectl(t, "", "label", "namespace", "team-a", tenantLabel+"="+tn.Name)
	kubectl(t, "", "-n", "default", "create", "secret", "generic", "not-yours", "--from-literal=k=v")
	t.Cleanup(func() { _, _ = kubectlErr("", "-n", "default", "delete", "secret", "not-yours") })
	apply(t, c, install{name: "config/namespaced", rendered: renderKustomize(t, filepath.Join(repoRoot, "config/namespaced"))}, e)
	converge(t, c, e, tn, 3)
	api := "https://kubernetes.default.svc/api/v1/namespaces/"
	for url, want := range map[string]string{
		api + "default/secrets/not-yours": "status=403",
		api + "team-a/secrets":            "status=200",
	} {
		name := "sa-token-" + strings.NewReplacer("/", "-", ".", "-").Replace(strings.TrimPrefix(url, api))
		got := probe(t, installNamespace, name, deploymentName, url)
		t.Logf("manager's token GET %s: %s", strings.TrimPrefix(url, "https://kubernetes.default.svc"), got)
		if got != want {
			t.Errorf("manager's ServiceAccount GET %s: %q, want %q", url, got, want)
		}
	}
}

// --- pod faults ---------------------------------------------------------------------------------

// managerPod is the (single) manager pod and its container's runtime id.
func managerPod(t *testing.T, c client.Client) (corev1.Pod, string) {
	t.Helper()
	var pods corev1.PodList
	must(t, c.List(context.Background(), &pods, client.InNamespace(installNamespace), client.MatchingLabels{"control-plane": "controller-manager"}))
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].ContainerID != "" {
			return p, strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
		}
	}
	t.Fatalf("no running manager pod among %d", len(pods.Items))
	return corev1.Pod{}, ""
}

// killMidOnboarding creates objects from..to-1, SIGKILLs the manager's container through
// containerd as soon as Graph saw the first of their creates, and checks that kubelet restarts
// it, that all converge and that no phone method was created twice.
func killMidOnboarding(t *testing.T, c client.Client, e *emulator, tn *tenant, from, to int) {
	// The manager sends its creates in a few concurrent $batch requests, which Graph (the
	// emulator) answers within milliseconds: a random delay of up to 4 s a request spreads them,
	// so at the first create some batches are done, some in flight and some not yet sent.
	e.SetFaults(graphemu.Faults{Jitter: 4 * time.Second})
	defer e.SetFaults(graphemu.Faults{})
	pod, id := managerPod(t, c)
	before := e.creates()
	tn.createMethods(t, c, from, to)
	poll(t, 2*time.Minute, "the first create of the onboarding", func() (bool, error) {
		return e.creates() > before, nil
	})
	ctr := exec.Command("ctr", "--address", filepath.Join(clusterDir(), "containerd", "containerd.sock"), "-n", "k8s.io", "task", "kill", "-s", "SIGKILL", id)
	if out, err := ctr.CombinedOutput(); err != nil {
		t.Fatalf("killing the manager container: %v\n%s", err, out)
	}
	created := e.creates() - before
	e.SetFaults(graphemu.Faults{}) // requests still in flight keep their delay
	t.Logf("killed the manager container after %d of %d creates", created, to-from)
	if created >= to-from {
		t.Fatalf("all %d objects were created before the kill: the test did not kill mid-onboarding", to-from)
	}
	poll(t, 2*time.Minute, "manager container restarted", func() (bool, error) {
		p, _ := managerPod(t, c)
		return p.Name == pod.Name && p.Status.ContainerStatuses[0].RestartCount > pod.Status.ContainerStatuses[0].RestartCount &&
			p.Status.ContainerStatuses[0].Ready, nil
	})
	took := tn.waitConverged(t, c, to, 5*time.Minute)
	t.Logf("all %d Ready %.1f s after the restart", to, took.Seconds())
	if got := e.creates() - before; got != to-from {
		t.Errorf("%d phone method creates for %d new objects (duplicates: %d)", got, to-from, got-(to-from))
	}
}

// restartKubelet stops kubelet and starts it again while the manager runs: the manager's
// container must survive untouched (same id, no restart), the node come back Ready, and a new
// object still converge.
func restartKubelet(t *testing.T, c client.Client, e *emulator, tn *tenant, total int) {
	pod, id := managerPod(t, c)
	start := time.Now()
	if out, err := exec.Command(filepath.Join(repoRoot, "hack/cluster.sh"), "restart-kubelet").CombinedOutput(); err != nil {
		t.Fatalf("hack/cluster.sh restart-kubelet: %v\n%s", err, out)
	}
	t.Logf("kubelet restarted, node Ready again in %.1f s", time.Since(start).Seconds())
	after, afterID := managerPod(t, c)
	if after.Name != pod.Name || afterID != id || after.Status.ContainerStatuses[0].RestartCount != pod.Status.ContainerStatuses[0].RestartCount {
		t.Errorf("the manager container changed across a kubelet restart: %s/%s restarts %d -> %s/%s restarts %d",
			pod.Name, id[:12], pod.Status.ContainerStatuses[0].RestartCount, after.Name, afterID[:12], after.Status.ContainerStatuses[0].RestartCount)
	}
	before := e.creates()
	tn.createMethods(t, c, total-1, total)
	tn.waitConverged(t, c, total, 2*time.Minute)
	if got := e.creates() - before; got != 1 {
		t.Errorf("%d creates for one new object after the kubelet restart", got)
	}
}

// --- leader election -------------------------------------------------------------------------

// leaseHolder is the pod holding the manager's leader Lease ("" when none).
func leaseHolder() string {
	out, _ := kubectlErr("", "-n", installNamespace, "get", "lease", "phoneop.identity.phoneop.dev", "-o", "jsonpath={.spec.holderIdentity}")
	holder, _, _ := strings.Cut(strings.TrimSpace(out), "_") // controller-runtime: <hostname>_<uuid>
	return holder
}

// handOver runs two replicas, deletes the leader's pod and measures how long until the other
// one holds the Lease; objects created around the hand-over converge with one create each.
func handOver(t *testing.T, c client.Client, e *emulator, tn *tenant, done int) {
	kubectl(t, "", "-n", installNamespace, "scale", "deployment", deploymentName, "--replicas=2")
	t.Cleanup(func() {
		_, _ = kubectlErr("", "-n", installNamespace, "scale", "deployment", deploymentName, "--replicas=1")
	})
	poll(t, 2*time.Minute, "two ready replicas", func() (bool, error) {
		out, err := kubectlErr("", "-n", installNamespace, "get", "deployment", deploymentName, "-o", "jsonpath={.status.readyReplicas}")
		return strings.TrimSpace(out) == "2", err
	})
	leader := leaseHolder()
	if leader == "" {
		t.Fatal("no Lease holder with two replicas")
	}
	before := e.creates()
	kubectl(t, "", "-n", installNamespace, "delete", "pod", leader, "--wait=false")
	start := time.Now()
	tn.createMethods(t, c, done, done+5) // created while the leader goes away
	var next string
	took := poll(t, time.Minute, "a new leader", func() (bool, error) {
		next = leaseHolder()
		return next != "" && next != leader, fmt.Errorf("holder %q", next)
	})
	took = time.Since(start)
	t.Logf("leader hand-over %s -> %s in %.1f s", leader, next, took.Seconds())
	conv := tn.waitConverged(t, c, done+5, 2*time.Minute)
	t.Logf("objects created during the hand-over Ready %.1f s after the new leader", conv.Seconds())
	// controller-runtime's defaults: 15 s lease, 10 s renew deadline; the manager releases the
	// Lease on a graceful stop, so the hand-over should be far quicker than the lease.
	if took > 15*time.Second+10*time.Second {
		t.Errorf("hand-over took %s, more than the lease duration plus a reconcile", took)
	}
	if got := e.creates() - before; got != 5 {
		t.Errorf("%d creates for 5 objects across the hand-over", got)
	}
}

// --- workload identity ---------------------------------------------------------------------------

// webhookPatch is what the Azure Workload Identity webhook adds to a pod labelled
// azure.workload.identity/use=true (its mutating admission, reproduced here because the
// webhook is not installed): the client and tenant ids, the authority, the token file, and a
// projected service-account token for audience api://AzureADTokenExchange.
func webhookPatch(clientID, tenantID, authority string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: phoneop-controller-manager, namespace: phoneop-system}
spec:
  template:
    spec:
      containers:
      - name: manager
        env:
        - {name: AZURE_CLIENT_ID, value: %q}
        - {name: AZURE_TENANT_ID, value: %q}
        - {name: AZURE_FEDERATED_TOKEN_FILE, value: /var/run/secrets/azure/tokens/azure-identity-token}
        - {name: AZURE_AUTHORITY_HOST, value: %q}
        volumeMounts:
        - {name: azure-identity-token, mountPath: /var/run/secrets/azure/tokens, readOnly: true}
      volumes:
      - name: azure-identity-token
        projected:
          sources:
          - serviceAccountToken: {path: azure-identity-token, audience: api://AzureADTokenExchange, expirationSeconds: 3600}
`, clientID, tenantID, authority)
}

// workloadIdentity installs the chart in workloadIdentity mode with no client secret anywhere:
// the emulator's app has only a federated identity credential naming the cluster's
// service-account issuer and the manager's ServiceAccount, and checks the pod's projected
// token against the issuer's published keys, as Entra does. A second tenant whose credential
// names another subject is refused (AADSTS700213).
func workloadIdentity(t *testing.T, c client.Client, e *emulator) {
	issuer := "https://" + nodeIP + ":6443"
	subject := "system:serviceaccount:" + installNamespace + ":" + deploymentName
	tn := federatedTenant(t, e, "wi", 3, subject, issuer)
	wrong := federatedTenant(t, e, "wi-wrong", 1, "system:serviceaccount:default:someone-else", issuer)
	apply(t, c, install{
		name:            "chart (workloadIdentity)",
		rendered:        renderChart(t, "image.tag=dev", "workloadIdentity.enabled=true", "workloadIdentity.clientId="+tn.ClientID),
		createNamespace: true,
		extraPatch:      webhookPatch(tn.ClientID, tn.TenantID, e.URL+"/"),
	}, e)
	// The only Secret is the one phoneop makes for itself (the key of the hashes in status),
	// never a credential: workload identity needs none.
	var secrets corev1.SecretList
	must(t, c.List(context.Background(), &secrets, client.InNamespace(installNamespace)))
	for _, s := range secrets.Items {
		if s.Name != statuskey.SecretName {
			t.Errorf("Secret %s/%s in the install; workload identity needs no credential Secret", installNamespace, s.Name)
		}
	}
	tn.create(t, c, e)
	t.Cleanup(func() { tn.remove(t, c) })
	tn.createMethods(t, c, 0, 3)
	took := tn.waitConverged(t, c, 3, 3*time.Minute)
	t.Logf("workload identity: 3 PhoneAuthMethods Ready in %.1f s; token endpoint: %v", took.Seconds(), e.tokens.get(tn.TenantID))
	if got := e.tokens.get(tn.TenantID); got["issued"] == 0 || len(got) != 1 {
		t.Errorf("token requests of the federated tenant: %v, want only issued ones", got)
	}

	// The same pod's token, presented for an app whose federated credential names another
	// subject, is refused as Entra refuses it, and the tenant says its credentials are invalid.
	wrong.create(t, c, e)
	t.Cleanup(func() { wrong.remove(t, c) })
	poll(t, 2*time.Minute, "the wrong-subject tenant refused with AADSTS700213", func() (bool, error) {
		var et identityv1alpha1.EntraTenant
		if err := c.Get(context.Background(), client.ObjectKey{Name: wrong.Name}, &et); err != nil {
			return false, err
		}
		ready := meta.FindStatusCondition(et.Status.Conditions, "Ready")
		refused := e.tokens.get(wrong.TenantID)
		if ready == nil {
			return false, fmt.Errorf("no Ready condition; token endpoint: %v", refused)
		}
		return ready.Status == "False" && ready.Reason == identityv1alpha1.ReasonCredentialsInvalid && refused["AADSTS700213"] > 0 && refused["issued"] == 0,
			fmt.Errorf("Ready=%s %s; token endpoint: %v", ready.Status, ready.Reason, refused)
	})
	t.Logf("wrong subject: token endpoint %v", e.tokens.get(wrong.TenantID))
}

// federatedTenant registers a tenant whose app has no secret, only a federated identity
// credential for (issuer, subject, api://AzureADTokenExchange).
func federatedTenant(t *testing.T, e *emulator, name string, users int, subject, issuer string) *tenant {
	t.Helper()
	tn := &tenant{Name: name, TenantID: guid(), ClientID: guid(), Namespace: name + "-apps"}
	must(t, e.AddTenant(graphemu.Tenant{ID: tn.TenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}}))
	must(t, e.AddApp(graphemu.App{TenantID: tn.TenantID, ClientID: tn.ClientID,
		Permissions: appPermissions,
		FederatedCredentials: []graphemu.FederatedCredential{{Name: "phoneop", Issuer: issuer, Subject: subject,
			Audiences: []string{graphemu.WorkloadIdentityAudience}}}}))
	for i := range users {
		must(t, e.AddUser(graphemu.User{TenantID: tn.TenantID, ID: guid(), UserPrincipalName: tn.upn(i)}))
	}
	return tn
}
