# phoneop's manifest policy: what make test demands of every rendered install (config/default,
# config/namespaced, the chart with default and custom values). Each rule has an id; an object
# may waive a rule only with the annotation ignore-check.phoneop.dev/<id>: "<why>", a sentence
# that stays next to the object it excuses (the kube-linter convention, with our prefix).
#
# Input: one Kubernetes object. Output: data.phoneop.lint.findings, a set of {rule, message}.
package phoneop.lint

# ---- Helpers ---------------------------------------------------------------------------------

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec := input.spec.template.spec if workload_kinds[input.kind]

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

pod_spec := input.spec if input.kind == "Pod"

containers contains c if some c in pod_spec.containers

containers contains c if some c in pod_spec.initContainers

# waived is true when the object carries a justification for skipping rule. A justification of
# a few words ("ok", "needed") is not one: at least 20 characters.
waived(rule) if count(input.metadata.annotations[sprintf("ignore-check.phoneop.dev/%s", [rule])]) >= 20

finding(rule, msg) := {"rule": rule, "message": msg}

# ---- Pods ------------------------------------------------------------------------------------

findings contains finding("pod-run-as-non-root", "the pod does not set securityContext.runAsNonRoot: true") if {
	pod_spec
	not pod_spec.securityContext.runAsNonRoot == true
	not waived("pod-run-as-non-root")
}

findings contains finding("pod-seccomp-runtime-default", "the pod does not use the RuntimeDefault seccomp profile") if {
	pod_spec
	not pod_spec.securityContext.seccompProfile.type == "RuntimeDefault"
	not waived("pod-seccomp-runtime-default")
}

findings contains finding("pod-no-host-namespaces", sprintf("the pod shares the node's %s", [ns])) if {
	some ns in ["hostNetwork", "hostPID", "hostIPC"]
	pod_spec[ns] == true
	not waived("pod-no-host-namespaces")
}

# The token is the manager's identity to the API server, so a pod must say whether it wants it;
# inheriting the ServiceAccount's (or the cluster's) default is how a token ends up in a pod
# that never needed one.
findings contains finding("pod-automount-token-explicit", "the pod does not set automountServiceAccountToken explicitly") if {
	pod_spec
	not automount_set
	not waived("pod-automount-token-explicit")
}

automount_set if is_boolean(pod_spec.automountServiceAccountToken)

# ---- Containers ------------------------------------------------------------------------------

findings contains finding("container-read-only-root-fs", sprintf("container %s: readOnlyRootFilesystem is not true", [c.name])) if {
	some c in containers
	not c.securityContext.readOnlyRootFilesystem == true
	not waived("container-read-only-root-fs")
}

findings contains finding("container-no-privilege-escalation", sprintf("container %s: allowPrivilegeEscalation is not false", [c.name])) if {
	some c in containers
	not c.securityContext.allowPrivilegeEscalation == false
	not waived("container-no-privilege-escalation")
}

findings contains finding("container-not-privileged", sprintf("container %s is privileged", [c.name])) if {
	some c in containers
	c.securityContext.privileged == true
	not waived("container-not-privileged")
}

findings contains finding("container-drop-all-capabilities", sprintf("container %s: capabilities must drop ALL and add none", [c.name])) if {
	some c in containers
	not drops_all_adds_none(c)
	not waived("container-drop-all-capabilities")
}

drops_all_adds_none(c) if {
	"ALL" in c.securityContext.capabilities.drop
	count(object.get(c.securityContext.capabilities, "add", [])) == 0
}

findings contains finding("container-resources", sprintf("container %s: no %s", [c.name, what])) if {
	some c in containers
	some what in ["requests.cpu", "requests.memory", "limits.memory"]
	[kind, res] := split(what, ".")
	not c.resources[kind][res]
	not waived("container-resources")
}

findings contains finding("container-probes", sprintf("container %s: no %s", [c.name, probe])) if {
	some c in containers
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	not waived("container-probes")
}

# A tag that moves (latest, or none) makes two installs of one manifest run different code.
findings contains finding("image-pinned", sprintf("container %s: image %s has no tag or digest, or uses latest", [c.name, c.image])) if {
	some c in containers
	not pinned(c.image)
	not waived("image-pinned")
}

pinned(image) if contains(image, "@sha256:")

pinned(image) if {
	not contains(image, "@")
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	not endswith(last, ":latest")
}

# ---- ServiceAccounts and RBAC ----------------------------------------------------------------

# A ServiceAccount hands out no token by default; the pods that need one (the manager) say so.
findings contains finding("serviceaccount-automount-off", "the ServiceAccount does not set automountServiceAccountToken: false") if {
	input.kind == "ServiceAccount"
	not input.automountServiceAccountToken == false
	not waived("serviceaccount-automount-off")
}

rbac_kinds := {"Role", "ClusterRole"}

findings contains finding("rbac-no-wildcards", sprintf("rule %d grants * in %s", [i, field])) if {
	rbac_kinds[input.kind]
	some i, r in input.rules
	some field in ["verbs", "resources", "apiGroups"]
	"*" in r[field]
	not waived("rbac-no-wildcards")
}

# Verbs that hand out more than they name: escalate/bind (grant yourself any role),
# impersonate, and reaching into pods.
findings contains finding("rbac-no-escalation", sprintf("rule %d grants %s on %v", [i, v, r.resources])) if {
	rbac_kinds[input.kind]
	some i, r in input.rules
	some v in r.verbs
	v in {"escalate", "bind", "impersonate"}
	not waived("rbac-no-escalation")
}

findings contains finding("rbac-no-escalation", sprintf("rule %d grants %v on %s", [i, r.verbs, res])) if {
	rbac_kinds[input.kind]
	some i, r in input.rules
	some res in r.resources
	res in {"pods/exec", "pods/attach", "serviceaccounts/token", "nodes/proxy"}
	not waived("rbac-no-escalation")
}

# Reading Secrets is reading every credential in the scope of the binding: a ClusterRole that
# reads them must say why (it may still be bound per namespace).
findings contains finding("rbac-secrets-read", sprintf("rule %d reads Secrets (%v)", [i, r.verbs])) if {
	rbac_kinds[input.kind]
	some i, r in input.rules
	"" in r.apiGroups
	"secrets" in r.resources
	some v in r.verbs
	v in {"get", "list", "watch"}
	input.kind == "ClusterRole"
	not waived("rbac-secrets-read")
}

# ---- Namespaces ------------------------------------------------------------------------------

findings contains finding("namespace-pod-security", "the namespace does not enforce the restricted Pod Security Standard") if {
	input.kind == "Namespace"
	not input.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
	not waived("namespace-pod-security")
}
