package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// renderWithNetworkPolicy renders config/default with the network-policy component through a
// throwaway overlay, the way docs/install.md tells users to enable it.
func renderWithNetworkPolicy(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	root := repoRoot(t)
	// kustomize refuses absolute paths: name the bases relative to the overlay.
	rel := func(elem ...string) string {
		p, err := filepath.Rel(dir, filepath.Join(append([]string{root}, elem...)...))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	overlay := fmt.Sprintf("resources:\n- %s\ncomponents:\n- %s\n",
		rel("config", "default"), rel("config", "components", "network-policy"))
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	return run(t, nil, kubectlPath(t), "kustomize", dir)
}

func networkPolicy(t *testing.T, objs []*unstructured.Unstructured) *networkingv1.NetworkPolicy {
	t.Helper()
	np := &networkingv1.NetworkPolicy{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(t, objs, "NetworkPolicy").Object, np); err != nil {
		t.Fatal(err)
	}
	return np
}

// checkNetworkPolicy asserts what the policy is for: it selects every manager pod; ingress is
// the metrics port alone, from the given namespace labels; egress allows DNS, the API server
// and HTTPS and nothing else.
func checkNetworkPolicy(t *testing.T, objs []*unstructured.Unstructured, metricsFrom map[string]string) {
	t.Helper()
	np := networkPolicy(t, objs)
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	pods := 0
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		pods++
		podLabels, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels")
		if !sel.Matches(labels.Set(podLabels)) {
			t.Errorf("the NetworkPolicy's podSelector %s misses Deployment %s's pods %v", sel, o.GetName(), podLabels)
		}
	}
	if pods == 0 || !selectsNothingElse(sel) {
		t.Errorf("the NetworkPolicy selects %s; want the manager pods and only them", sel)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policyTypes %v, want [Ingress Egress] (else egress would stay open)", np.Spec.PolicyTypes)
	}

	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.IntValue() != 8443 {
		t.Fatalf("ingress %+v, want one rule for the metrics port 8443", np.Spec.Ingress)
	}
	from := np.Spec.Ingress[0].From
	if len(from) != 1 || from[0].NamespaceSelector == nil || !sameLabels(from[0].NamespaceSelector.MatchLabels, metricsFrom) || from[0].IPBlock != nil {
		t.Errorf("metrics ingress from %+v, want namespaces labelled %v", from, metricsFrom)
	}

	var dns, https bool
	for _, r := range np.Spec.Egress {
		for _, p := range r.Ports {
			switch {
			case p.Port.IntValue() == 53 && *p.Protocol == corev1.ProtocolUDP:
				dns = len(r.To) == 1 && r.To[0].PodSelector != nil && r.To[0].PodSelector.MatchLabels["k8s-app"] == "kube-dns"
			case p.Port.IntValue() == 443 && len(r.To) == 0:
				https = true
			case p.Port.IntValue() == 443 || p.Port.IntValue() == 6443 || p.Port.IntValue() == 53:
			default:
				t.Errorf("egress allows port %v, which the manager does not use", p.Port)
			}
		}
	}
	if !dns || !https {
		t.Errorf("egress %+v: DNS to kube-dns %t, HTTPS to Entra and Graph %t; want both", np.Spec.Egress, dns, https)
	}
}

// selectsNothingElse: the selector requires control-plane=controller-manager, so it cannot
// match other workloads of the namespace that share the app name.
func selectsNothingElse(sel labels.Selector) bool {
	return !sel.Empty() && !sel.Matches(labels.Set{"app.kubernetes.io/name": "phoneop"})
}

func sameLabels(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestNetworkPolicyComponent(t *testing.T) {
	manifests := renderWithNetworkPolicy(t)
	objs := decode(t, manifests)
	checkNetworkPolicy(t, objs, map[string]string{"phoneop.dev/metrics-scraper": "true"})
	if np := networkPolicy(t, objs); np.Namespace != "phoneop-system" {
		t.Errorf("NetworkPolicy in %q, want the manager's phoneop-system", np.Namespace)
	}
	createNamespace(t, "phoneop-system")
	dryRun(t, manifests)

	for _, o := range decode(t, renderInstall(t)) {
		if o.GetKind() == "NetworkPolicy" {
			t.Errorf("config/default has a NetworkPolicy; it is opt-in (the component)")
		}
	}
}

func TestHelmChartNetworkPolicy(t *testing.T) {
	for _, o := range decode(t, helmTemplate(t, "phoneop", "phoneop-system", "")) {
		if o.GetKind() == "NetworkPolicy" {
			t.Errorf("the chart renders a NetworkPolicy by default; networkPolicy.enabled is opt-in")
		}
	}
	const values = `
shards: [east]
networkPolicy:
  enabled: true
  metrics:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
    podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}
  apiServer:
    cidrs: [10.96.0.1/32]
    ports: [6443]
`
	manifests := helmTemplate(t, "np", "np-system", values)
	objs := decode(t, manifests)
	checkNetworkPolicy(t, objs, map[string]string{"kubernetes.io/metadata.name": "monitoring"})
	np := networkPolicy(t, objs)
	if ps := np.Spec.Ingress[0].From[0].PodSelector; ps == nil || ps.MatchLabels["app.kubernetes.io/name"] != "prometheus" {
		t.Errorf("metrics ingress podSelector %v, want the values' prometheus pods", ps)
	}
	apiRule := slices.IndexFunc(np.Spec.Egress, func(r networkingv1.NetworkPolicyEgressRule) bool {
		return len(r.To) == 1 && r.To[0].IPBlock != nil && r.To[0].IPBlock.CIDR == "10.96.0.1/32"
	})
	if apiRule < 0 || np.Spec.Egress[apiRule].Ports[0].Port.IntValue() != 6443 {
		t.Errorf("egress %+v lacks the API server rule to 10.96.0.1/32:6443 from the values", np.Spec.Egress)
	}
	createNamespace(t, "np-system")
	dryRun(t, manifests)
}
