// Package ownership decides which PhoneAuthMethod owns a phone slot — one (tenant, user, phone
// type) — when several objects claim it. Only the owner writes; every other claimant reports
// Conflict and writes nothing.
//
// Ownership is sticky and ranked by what phoneop recorded, not by what a namespace tenant
// controls: the owner is the object with the earliest status.claimedAt (set by phoneop the
// first time an object of a granted namespace wins), else, among unclaimed objects, the oldest
// by creationTimestamp, then by namespace/name, so that every reconciler of every claimant picks
// the same owner. An object created while its namespace was not granted keeps its age but has
// no claim, so it cannot take over from a converged owner when its namespace is granted later;
// a paused object that never owned its phone cannot hold the slot either.
package ownership

import (
	"fmt"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// Owner returns the owner of pam's slot among claimants (objects naming the same user in the
// same tenant, pam itself possibly among them): only objects of the same phone type, in a
// namespace granted says the tenant grants, and not squatting, compete; pam competes whatever
// its namespace (its own grant was checked before).
func Owner(pam *identityv1alpha1.PhoneAuthMethod, claimants []identityv1alpha1.PhoneAuthMethod, granted func(namespace string) (bool, error)) (*identityv1alpha1.PhoneAuthMethod, error) {
	var owner *identityv1alpha1.PhoneAuthMethod
	for i := range claimants {
		c := &claimants[i]
		if c.Spec.PhoneType != pam.Spec.PhoneType || c.UID == pam.UID || owner != nil && !OlderThan(c, owner) || Squatting(c) {
			continue
		}
		ok, err := granted(c.Namespace)
		if err != nil {
			return nil, err
		}
		if ok {
			owner = c
		}
	}
	if owner == nil || OlderThan(pam, owner) {
		return pam, nil
	}
	return owner, nil
}

// Squatting reports a paused object that never owned its phone: it can hold no slot, or any
// granted namespace could block a user's phone with an object that does nothing. A paused owner
// keeps its claim.
func Squatting(c *identityv1alpha1.PhoneAuthMethod) bool {
	return identityv1alpha1.IsPaused(c) && c.Status.ClaimedAt == nil
}

// OlderThan orders claimants: claimed before unclaimed, earlier claims first, then
// creationTimestamp, then namespace/name.
func OlderThan(a, b *identityv1alpha1.PhoneAuthMethod) bool {
	ac, bc := a.Status.ClaimedAt, b.Status.ClaimedAt
	switch {
	case ac != nil && bc == nil:
		return true
	case ac == nil && bc != nil:
		return false
	case ac != nil && !ac.Equal(bc):
		return ac.Before(bc)
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

// ConflictMessage is the Conflict condition of pam, which owner outranks. It names the owner
// only when it is in the same namespace: another namespace's object names are not this
// namespace's business (another team, maybe another customer).
func ConflictMessage(pam, owner *identityv1alpha1.PhoneAuthMethod) string {
	if owner.Namespace == pam.Namespace {
		return fmt.Sprintf("PhoneAuthMethod %s/%s already manages the %s phone of this user; delete one of the two objects", owner.Namespace, owner.Name, pam.Spec.PhoneType)
	}
	return fmt.Sprintf("Another PhoneAuthMethod, in a namespace this one cannot see, already manages the %s phone of this user; ask the platform team which object should own it, and delete this one if it is not", pam.Spec.PhoneType)
}
