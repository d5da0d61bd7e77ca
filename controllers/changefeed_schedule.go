package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/schedule"
)

// nextResync schedules the converged object's next read of Graph on its user's slot of the
// tenant's current period (schedule.Resync).
func (r *PhoneAuthMethodReconciler) nextResync(s *scope) time.Duration {
	return r.resync().Next(s.pam.Spec.TenantRef.Name, s.user.ID, r.now())
}

// resync is the reconciler's resync schedule: --resync-period, stretched for the tenants whose
// change feed is healthy.
func (r *PhoneAuthMethodReconciler) resync() schedule.Resync {
	return schedule.Resync{Period: r.ResyncPeriod, Sweeps: r.Sweeps}
}

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
