package tenantconn

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// GrantInput is what the tenant grant checks look at. The caller gathers it (the reconciler
// from its caches, the plugin from the cluster) and pure checks judge it, so that every rule
// is table-tested without a cluster (cert-manager's policies pattern).
type GrantInput struct {
	// Tenant is the EntraTenant the object names.
	Tenant *identityv1alpha1.EntraTenant
	// Namespace is the object's namespace and NamespaceLabels its labels.
	Namespace       string
	NamespaceLabels map[string]string
	// User is spec.user; UserPrincipalName is the resolved UPN ("" until resolved) and
	// UserID the resolved object id ("" until resolved).
	User, UserPrincipalName, UserID string
}

// GrantCheck returns failed=true with a one-sentence message when the grant does not cover the
// input. Every failure maps to reason Forbidden and means: no Graph call at all.
type GrantCheck func(in GrantInput) (message string, failed bool)

// userGrantChecks judge the user alone, in order.
var userGrantChecks = []GrantCheck{
	UserNotDenied,     // the user is not on the tenant's deny list (break-glass, admins)
	UserDomainInScope, // the user's UPN domain is one the tenant allows
}

// grantChecks run in order; the first failure wins. The namespace comes first, so that an
// ungranted namespace learns nothing about the tenant's user scope.
var grantChecks = append([]GrantCheck{
	NamespaceAllowed, // the tenant's allowedNamespaces selects the object's namespace
}, userGrantChecks...)

// EvaluateGrant runs the grant checks in order and returns the first failure's message.
func EvaluateGrant(in GrantInput) (message string, failed bool) {
	return evaluate(grantChecks, in)
}

// EvaluateUserGrant runs the user checks only, for a caller that judges users before their
// namespace is known (kubectl-phoneop export leaves such users out).
func EvaluateUserGrant(in GrantInput) (message string, failed bool) {
	return evaluate(userGrantChecks, in)
}

func evaluate(checks []GrantCheck, in GrantInput) (string, bool) {
	for _, check := range checks {
		if msg, failed := check(in); failed {
			return msg, true
		}
	}
	return "", false
}

// NamespaceAllowed fails unless the tenant's spec.allowedNamespaces selects the namespace's
// labels. A nil selector allows no namespace; an empty one allows every namespace.
func NamespaceAllowed(in GrantInput) (string, bool) {
	sel := in.Tenant.Spec.AllowedNamespaces
	deny := fmt.Sprintf("EntraTenant %q does not allow namespace %q; a cluster admin must add the namespace to the tenant's spec.allowedNamespaces", in.Tenant.Name, in.Namespace)
	if sel == nil {
		return deny, true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Sprintf("EntraTenant %q has an invalid spec.allowedNamespaces selector; a cluster admin must fix it", in.Tenant.Name), true
	}
	if !s.Matches(labels.Set(in.NamespaceLabels)) {
		return deny, true
	}
	return "", false
}

// UserNotDenied fails when spec.userScope.deniedUsers names the user by any identifier known.
func UserNotDenied(in GrantInput) (string, bool) {
	if in.Tenant.Spec.UserScope.Denies(in.User, in.UserPrincipalName, in.UserID) {
		return fmt.Sprintf("EntraTenant %q denies managing this user (spec.userScope.deniedUsers); phoneop will not touch the user's phones", in.Tenant.Name), true
	}
	return "", false
}

// UserDomainInScope fails when the user's UPN is outside spec.userScope.allowedDomains. A user
// named by object id whose UPN is not known yet passes; the caller checks again once resolved.
func UserDomainInScope(in GrantInput) (string, bool) {
	domains := in.Tenant.Spec.UserScope.AllowedDomains
	if len(domains) == 0 {
		return "", false
	}
	upn := in.UserPrincipalName
	if upn == "" && strings.Contains(in.User, "@") {
		upn = in.User
	}
	if upn == "" {
		// An object id whose UPN is not known yet: the reconciler resolves it and checks again
		// before any phone-method call.
		return "", false
	}
	if in.Tenant.Spec.UserScope.AllowsDomainOf(upn) {
		return "", false
	}
	return fmt.Sprintf("EntraTenant %q allows only users in %s (spec.userScope.allowedDomains); use a user of those domains or ask a cluster admin to extend the scope", in.Tenant.Name, strings.Join(domains, ", ")), true
}
