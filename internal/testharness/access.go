/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Access is one question for the API server's authorizer: may the subject do Verb on
// Resource (Subresource) in Namespace ("" = cluster-wide), and the answer the test expects.
type Access struct {
	Verb, Group, Resource, Subresource, Namespace string
	// Allowed is the expected answer.
	Allowed bool
	// Why is the sentence a failure prints.
	Why string
}

func (a Access) String() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	where := "cluster-wide"
	if a.Namespace != "" {
		where = "in namespace " + a.Namespace
	}
	return fmt.Sprintf("%s %s %s", a.Verb, r, where)
}

// ServiceAccountCan asks the API server, with a SubjectAccessReview (what the authorizer
// answers a real request with), whether ServiceAccount namespace/name may do a. The
// ServiceAccount's groups are included, as they are on its requests.
func ServiceAccountCan(ctx context.Context, c client.Client, namespace, name string, a Access) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:" + namespace + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: a.Namespace, Verb: a.Verb, Group: a.Group, Resource: a.Resource, Subresource: a.Subresource,
		},
	}}
	if err := c.Create(ctx, sar); err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}

// CheckAccess asks every question and returns one sentence per answer that differs from the
// expectation (nil when all match).
func CheckAccess(ctx context.Context, c client.Client, namespace, name string, want []Access) ([]string, error) {
	var failures []string
	for _, a := range want {
		got, err := ServiceAccountCan(ctx, c, namespace, name, a)
		if err != nil {
			return nil, err
		}
		if got != a.Allowed {
			verdict := map[bool]string{true: "may", false: "may not"}
			failures = append(failures, fmt.Sprintf("%s/%s %s %s, want %s: %s", namespace, name, verdict[got], a, verdict[a.Allowed], a.Why))
		}
	}
	return failures, nil
}

// NamespaceScopedAccess is what a namespace-scoped install (config/namespaced, Helm's
// watchNamespaces) must let the manager's ServiceAccount do, and must not: Secrets and
// PhoneAuthMethods only in the watched and credentials namespaces, never in unwatched ones nor
// cluster-wide; namespaces, EntraTenants and events cluster-wide; no write to a Secret but
// creating one in manager, its own namespace (the status key, internal/statuskey).
func NamespaceScopedAccess(manager string, watched []string, credentials string, unwatched []string) []Access {
	const group = "identity.phoneop.dev"
	var out []Access
	for _, ns := range append(append([]string{}, watched...), credentials) {
		for _, v := range []string{"get", "list", "watch"} {
			out = append(out, Access{Verb: v, Resource: "secrets", Namespace: ns, Allowed: true,
				Why: "phoneNumberFrom and credential Secrets are read in watched namespaces and the credentials namespace"})
		}
		for _, v := range []string{"get", "list", "watch", "patch"} {
			out = append(out, Access{Verb: v, Group: group, Resource: "phoneauthmethods", Namespace: ns, Allowed: true,
				Why: "the manager reconciles PhoneAuthMethods in watched namespaces (patch: the finalizer)"})
		}
		out = append(out,
			Access{Verb: "update", Group: group, Resource: "phoneauthmethods", Namespace: ns, Allowed: false,
				Why: "the finalizer is patched: an update would send the cached object, which lacks kubectl's last-applied annotation"},
			Access{Verb: "patch", Group: group, Resource: "phoneauthmethods", Subresource: "status", Namespace: ns, Allowed: true, Why: "status is written by patch"},
			Access{Verb: "update", Group: group, Resource: "phoneauthmethods", Subresource: "finalizers", Namespace: ns, Allowed: true, Why: "the finalizer is set by update"},
		)
	}
	for _, ns := range append(append([]string{}, unwatched...), "") {
		for _, v := range []string{"get", "list", "watch"} {
			out = append(out,
				Access{Verb: v, Resource: "secrets", Namespace: ns, Allowed: false, Why: "Secrets outside the watched namespaces must stay unreadable"},
				Access{Verb: v, Group: group, Resource: "phoneauthmethods", Namespace: ns, Allowed: false, Why: "PhoneAuthMethods (users and numbers) outside the watched namespaces must stay unreadable"},
			)
		}
	}
	for _, ns := range append(append(append([]string{}, watched...), credentials), unwatched...) {
		for _, v := range []string{"create", "update", "patch", "delete"} {
			if v == "create" && ns == manager {
				out = append(out, Access{Verb: v, Resource: "secrets", Namespace: ns, Allowed: true,
					Why: "the manager creates its status key Secret in its own namespace on the first start"})
				continue
			}
			out = append(out, Access{Verb: v, Resource: "secrets", Namespace: ns, Allowed: false,
				Why: "phoneop writes no Secret but its status key, created once in its own namespace"})
		}
	}
	for _, v := range []string{"get", "list", "watch"} {
		out = append(out,
			Access{Verb: v, Resource: "namespaces", Allowed: true, Why: "grants select namespaces by label"},
			Access{Verb: v, Group: group, Resource: "entratenants", Allowed: true, Why: "EntraTenants are cluster-scoped"},
		)
	}
	out = append(out,
		Access{Verb: "patch", Group: group, Resource: "entratenants", Subresource: "status", Allowed: true, Why: "EntraTenant status is written by patch"},
		Access{Verb: "update", Resource: "namespaces", Allowed: false, Why: "phoneop never changes a namespace (its labels are the grant)"},
		Access{Verb: "update", Group: group, Resource: "entratenants", Allowed: false, Why: "only a cluster admin changes a grant"},
		Access{Verb: "create", Group: "events.k8s.io", Resource: "events", Namespace: "default", Allowed: true, Why: "events about EntraTenants go to the default namespace"},
	)
	return out
}
