package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// needsFinalizer reports whether deleting the object needs phoneop to act in Graph first: only
// when its deletionPolicy is Delete and its managementPolicy lets phoneop delete (Full).
//
// Nothing else needs one. What phoneop keeps about an object lives on the object itself
// (status.userId, status.claimedAt, status.writeGuard: gone with it) or in memory, where the
// watch's delete event is enough: the user index drops the object on the informer's delete
// (a missed delete comes back as a tombstone on relist), the delete event wakes the user's
// other objects (a claimant that was in Conflict takes the slot over), the reconcile that finds
// the object gone drops its backlog entry and its write record, and the change budget is per
// tenant. An object deleted while phoneop is down is simply absent from the next list: nothing
// of it is left to clean.
func needsFinalizer(pam *identityv1alpha1.PhoneAuthMethod) bool {
	return pam.Spec.DeletionPolicy == identityv1alpha1.DeletionPolicyDelete && mayDelete(pam.Spec.ManagementPolicy)
}

// syncFinalizer makes a live object carry the finalizer exactly when its policies need one
// (needsFinalizer). It runs first in every pass, so a switch to
// Delete is on the API server before the pass makes any Graph write that the deletion would
// have to undo, and a switch to Orphan (or an object from before finalizers followed the
// policy) loses it at its next pass. A deleting object's finalizer is reconcileDelete's.
func (r *PhoneAuthMethodReconciler) syncFinalizer(ctx context.Context, pam *identityv1alpha1.PhoneAuthMethod) error {
	want := needsFinalizer(pam)
	if !pam.DeletionTimestamp.IsZero() || want == controllerutil.ContainsFinalizer(pam, identityv1alpha1.Finalizer) {
		return nil
	}
	unchanged := pam.DeepCopy()
	if want {
		controllerutil.AddFinalizer(pam, identityv1alpha1.Finalizer)
	} else {
		controllerutil.RemoveFinalizer(pam, identityv1alpha1.Finalizer)
	}
	return r.patchFinalizers(ctx, unchanged, pam)
}
