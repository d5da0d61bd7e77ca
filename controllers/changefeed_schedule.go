package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// SweepSchedule says how often the converged objects of a tenant re-read Graph. *ChangeFeeds
// implements it: while a tenant's change feed is healthy, the feed notices changes, and the
// full re-read becomes a rare safety net.
type SweepSchedule interface {
	// SweepPeriod is the tenant's (by EntraTenant name) period while its change feed is
	// healthy, or 0 to keep --resync-period.
	SweepPeriod(tenant string) time.Duration
}

// nextResync schedules the converged object's next read of Graph: on its user's phase of the
// tenant's sweep period while the change feed is healthy, else of --resync-period. Both are
// spread per user by resyncAfter, so a tenant switching between them keeps a flat read load.
func (r *PhoneAuthMethodReconciler) nextResync(s *scope) time.Duration {
	return resyncAfter(resyncKey(s.pam.Spec.TenantRef.Name, s.user.ID), r.periodFor(s.pam.Spec.TenantRef.Name), r.now())
}

// periodFor is the tenant's current resync period.
func (r *PhoneAuthMethodReconciler) periodFor(tenant string) time.Duration {
	if r.Sweeps != nil {
		if p := r.Sweeps.SweepPeriod(tenant); p > 0 {
			return p
		}
	}
	return r.ResyncPeriod
}

// resyncKey names a user's slot in the resync schedule; the objects of one user share it, so
// they come due together and share one GET through the Observer.
func resyncKey(tenant, userID string) string { return tenant + "/" + userID }

// notOnlyChangeFeed drops EntraTenant updates that change nothing but the change feed's
// status (its watermark and ChangeFeed condition): a PhoneAuthMethod does not depend on them,
// and waking every object of the tenant for each watermark write would cost one Graph read per
// user. The feed reschedules the objects itself when its health changes.
var notOnlyChangeFeed = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, okOld := e.ObjectOld.(*identityv1alpha1.EntraTenant)
		n, okNew := e.ObjectNew.(*identityv1alpha1.EntraTenant)
		if !okOld || !okNew {
			return true
		}
		return !equality.Semantic.DeepEqual(withoutFeedStatus(o), withoutFeedStatus(n))
	},
}

// withoutFeedStatus is the tenant without its change feed status and metadata that every
// write changes (resourceVersion, managedFields).
func withoutFeedStatus(t *identityv1alpha1.EntraTenant) *identityv1alpha1.EntraTenant {
	c := t.DeepCopy()
	c.Status.ChangeFeed = nil
	meta.RemoveStatusCondition(&c.Status.Conditions, identityv1alpha1.ConditionChangeFeed)
	c.ResourceVersion, c.ManagedFields = "", nil
	return c
}
