package manifests

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestHelmChartShards: values.shards renders one Deployment per shard next to the main one,
// each with --shard and all with --shard-count=<shards + 1>; their pod selectors do not
// overlap from the shards' side, and the main Deployment is the one an unsharded install has.
func TestHelmChartShards(t *testing.T) {
	manifests := helmTemplate(t, "phoneop", "phoneop-shards", "shards: [shard1, eu-2]\nreplicas: 2\n")
	objs := decode(t, manifests)
	deployments := map[string]*appsv1.Deployment{}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
			t.Fatal(err)
		}
		deployments[d.Name] = d
	}
	want := map[string]string{ // Deployment → its --shard ("" = none)
		"phoneop-controller-manager":        "",
		"phoneop-controller-manager-shard1": "shard1",
		"phoneop-controller-manager-eu-2":   "eu-2",
	}
	if len(deployments) != len(want) {
		t.Fatalf("Deployments %v, want %v", slices.Sorted(maps.Keys(deployments)), slices.Sorted(maps.Keys(want)))
	}
	for name, shard := range want {
		d, ok := deployments[name]
		if !ok {
			t.Fatalf("no Deployment %s", name)
		}
		checkHardened(t, d)
		args := d.Spec.Template.Spec.Containers[0].Args
		var shardArgs []string
		for _, a := range args {
			if strings.HasPrefix(a, "--shard") {
				shardArgs = append(shardArgs, a)
			}
		}
		wantArgs := []string{"--shard-count=3"}
		if shard != "" {
			wantArgs = []string{"--shard=" + shard, "--shard-count=3"}
		}
		if !slices.Equal(shardArgs, wantArgs) {
			t.Errorf("%s: shard flags %q, want %q", name, shardArgs, wantArgs)
		}
		if !slices.Contains(args, "--leader-elect") || *d.Spec.Replicas != 2 {
			t.Errorf("%s: every shard keeps leader election and the replicas (%q, %d)", name, args, *d.Spec.Replicas)
		}
		if got := d.Spec.Template.Labels["phoneop.dev/shard"]; got != shard {
			t.Errorf("%s: pod label phoneop.dev/shard=%q, want %q", name, got, shard)
		}
		// A shard's selector picks its own pods and no other Deployment's.
		if shard == "" {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		for other, od := range deployments {
			if matches := sel.Matches(labels.Set(od.Spec.Template.Labels)); matches != (other == name) {
				t.Errorf("%s's selector matches %s's pods: %v", name, other, matches)
			}
		}
	}
	// The main Deployment is unchanged by sharding but for --shard-count, so that an upgrade
	// keeps its (immutable) selector.
	unsharded := deployment(t, decode(t, helmTemplate(t, "phoneop", "phoneop-shards", "replicas: 2\n")))
	main := deployments["phoneop-controller-manager"]
	if !maps.Equal(main.Spec.Selector.MatchLabels, unsharded.Spec.Selector.MatchLabels) {
		t.Errorf("the main Deployment's selector changed: %v, unsharded %v", main.Spec.Selector, unsharded.Spec.Selector)
	}

	createNamespace(t, "phoneop-shards")
	dryRun(t, manifests)
	for _, d := range deployments {
		checkPodSecurity(t, d, "phoneop-shards")
	}
}

// TestHelmChartShardCount: shardCount overrides shards + 1; 1 (sharding by tenant, each tenant
// spent by one process) renders no --shard-count at all.
func TestHelmChartShardCount(t *testing.T) {
	for values, want := range map[string]string{
		"shards: [s1]\nshardCount: 1\n": "",
		"shards: [s1]\nshardCount: 4\n": "--shard-count=4",
		"shards: [s1]\n":                "--shard-count=2",
	} {
		for _, o := range decode(t, helmTemplate(t, "phoneop", "phoneop-shards", values)) {
			if o.GetKind() != "Deployment" {
				continue
			}
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, a := range d.Spec.Template.Spec.Containers[0].Args {
				if strings.HasPrefix(a, "--shard-count") {
					got = a
				}
			}
			if got != want {
				t.Errorf("values %q: %s has %q, want %q", values, d.Name, got, want)
			}
		}
	}
}

// TestHelmChartRefusesBadShards: a shard name becomes a flag, a Lease and a Deployment name.
func TestHelmChartRefusesBadShards(t *testing.T) {
	for values, wantErr := range map[string]string{
		"shardCount: 0\n":                             "shardCount must be",
		"shardCount: 1.5\n":                           "shardCount must be",
		"shardCount: many\n":                          "shardCount must be",
		"shards: [Shard_1]\n":                         "is not a shard name",
		"shards: [a, a]\n":                            "listed twice",
		"shards: shard1\n":                            "must be a list",
		"shards: [\"\"]\n":                            "is not a shard name",
		"shards: [" + strings.Repeat("a", 64) + "]\n": "is not a shard name",
	} {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := tryRun(nil, helmBinary(t), "template", "x", filepath.Join(repoRoot(t), "charts", "phoneop"), "--values", f)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("values %q: want a refusal containing %q, got %v", values, wantErr, err)
		}
	}
}
