package changefeed

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// NotOnlyFeedStatus drops EntraTenant updates that change nothing but the change feed's
// status (its watermark and ChangeFeed condition): a PhoneAuthMethod does not depend on them,
// and waking every object of the tenant for each watermark write would cost one Graph read per
// user. The feed reschedules the objects itself when its health changes.
var NotOnlyFeedStatus = predicate.Funcs{
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
