package manifests

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// deployment converts the manager Deployment among objs to its typed form.
func deployment(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(t, objs, "Deployment").Object, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkHardened asserts what a platform team expects of the manager's pod, whichever way it
// was installed. The API server accepts a pod without any of this, so it is checked here.
func checkHardened(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Containers))
	}
	c := spec.Containers[0]
	psc, sc := spec.SecurityContext, c.SecurityContext
	check := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf(format, args...)
		}
	}
	check(psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot, "pod: runAsNonRoot must be true")
	check(psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 65532, "pod: runAsUser must be 65532, the image's non-root user")
	check(psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault, "pod: seccomp profile must be RuntimeDefault")
	check(sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "container: readOnlyRootFilesystem must be true")
	check(sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "container: allowPrivilegeEscalation must be false")
	check(sc != nil && sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) && len(sc.Capabilities.Add) == 0,
		"container: capabilities must drop ALL and add none")
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		_, req := c.Resources.Requests[r]
		check(req, "container: no %s request", r)
	}
	_, memLimit := c.Resources.Limits[corev1.ResourceMemory]
	check(memLimit, "container: no memory limit")
	check(c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path == "/healthz", "container: liveness probe must GET /healthz")
	check(c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path == "/readyz", "container: readiness probe must GET /readyz")
	check(slices.Contains(c.Args, "--leader-elect"), "container: --leader-elect must be set (args %q)", c.Args)
	check(slices.Contains(c.Args, "--metrics-bind-address=:8443"), "container: metrics must bind :8443 (args %q)", c.Args)
	for _, a := range c.Args {
		// HTTPS behind authn/authz is the manager's default; nothing may turn it off.
		check(!strings.HasPrefix(a, "--metrics-secure=f") && a != "--metrics-secure=0", "container: %s serves metrics without TLS and authorization", a)
	}
	hasPodNamespace := slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	})
	check(hasPodNamespace, "container: POD_NAMESPACE (the default credentials namespace) must come from the downward API")
	check(spec.ServiceAccountName != "" && spec.ServiceAccountName != "default", "pod: must run as its own ServiceAccount, not %q", spec.ServiceAccountName)
}

// checkPodSecurity creates (dry run) a Pod from the Deployment's template in namespace, which
// enforces the restricted Pod Security Standard: Pod Security admission judges pods, not
// Deployments, so this is how the install's pod is judged without a kube-controller-manager.
// A deliberately weakened copy must be refused, which proves the check is live.
func checkPodSecurity(t *testing.T, d *appsv1.Deployment, namespace string) {
	t.Helper()
	pod := func(name string, spec corev1.PodSpec) []byte {
		p := corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: d.Spec.Template.ObjectMeta,
			Spec:       spec,
		}
		p.Name, p.Namespace = name, namespace
		b, err := yaml.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if out, err := tryKubectl(t, pod("psa-check", d.Spec.Template.Spec), "create", "--dry-run=server", "-f", "-"); err != nil {
		t.Errorf("the manager pod does not meet the restricted Pod Security Standard: %v", err)
	} else {
		t.Logf("%s", out)
	}

	weak := *d.Spec.Template.Spec.DeepCopy()
	weak.SecurityContext = nil
	weak.Containers[0].SecurityContext = nil
	_, err := tryKubectl(t, pod("psa-check-weak", weak), "create", "--dry-run=server", "-f", "-")
	if err == nil || !strings.Contains(err.Error(), "PodSecurity") {
		t.Errorf("a pod without a security context was not refused by Pod Security admission in %s (got %v); the check above proves nothing", namespace, err)
	}
}
