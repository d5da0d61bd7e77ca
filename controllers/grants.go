package controllers

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// grantInput is what the tenant grant checks look at. It is gathered by the reconciler and
// judged by pure checks, so that every rule is table-tested without a cluster (cert-manager's
// policies pattern).
type grantInput struct {
	// tenant is the EntraTenant the object names.
	tenant *identityv1alpha1.EntraTenant
	// namespace is the object's namespace and namespaceLabels its labels.
	namespace       string
	namespaceLabels map[string]string
	// user is spec.user; userPrincipalName is the resolved UPN ("" until resolved) and
	// userID the resolved object id ("" until resolved).
	user, userPrincipalName, userID string
}

// grantCheck returns failed=true with a one-sentence message when the grant does not cover the
// input. Every failure maps to reason Forbidden and means: no Graph call at all.
type grantCheck func(in grantInput) (message string, failed bool)

// grantChecks run in order; the first failure wins.
var grantChecks = []grantCheck{
	namespaceAllowed,  // the tenant's allowedNamespaces selects the object's namespace
	userNotDenied,     // the user is not on the tenant's deny list (break-glass, admins)
	userDomainInScope, // the user's UPN domain is one the tenant allows
}

// checkGrant runs grantChecks and returns the first failure's message.
func checkGrant(in grantInput) (message string, failed bool) {
	for _, check := range grantChecks {
		if msg, failed := check(in); failed {
			return msg, true
		}
	}
	return "", false
}

func namespaceAllowed(in grantInput) (string, bool) {
	sel := in.tenant.Spec.AllowedNamespaces
	deny := fmt.Sprintf("EntraTenant %q does not allow namespace %q; a cluster admin must add the namespace to the tenant's spec.allowedNamespaces", in.tenant.Name, in.namespace)
	if sel == nil {
		return deny, true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Sprintf("EntraTenant %q has an invalid spec.allowedNamespaces selector; a cluster admin must fix it", in.tenant.Name), true
	}
	if !s.Matches(labels.Set(in.namespaceLabels)) {
		return deny, true
	}
	return "", false
}

func userNotDenied(in grantInput) (string, bool) {
	if in.tenant.Spec.UserScope.Denies(in.user, in.userPrincipalName, in.userID) {
		return fmt.Sprintf("EntraTenant %q denies managing this user (spec.userScope.deniedUsers); phoneop will not touch the user's phones", in.tenant.Name), true
	}
	return "", false
}

func userDomainInScope(in grantInput) (string, bool) {
	domains := in.tenant.Spec.UserScope.AllowedDomains
	if len(domains) == 0 {
		return "", false
	}
	upn := in.userPrincipalName
	if upn == "" && strings.Contains(in.user, "@") {
		upn = in.user
	}
	if upn == "" {
		// An object id whose UPN is not known yet: the reconciler resolves it and checks again
		// before any phone-method call.
		return "", false
	}
	if in.tenant.Spec.UserScope.AllowsDomainOf(upn) {
		return "", false
	}
	return fmt.Sprintf("EntraTenant %q allows only users in %s (spec.userScope.allowedDomains); use a user of those domains or ask a cluster admin to extend the scope", in.tenant.Name, strings.Join(domains, ", ")), true
}
