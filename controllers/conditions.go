package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// maxMessageLength keeps condition messages readable in `kubectl describe` and under the API
// server's 32 KiB limit.
const maxMessageLength = 1024

// setCondition sets one condition on conds, stamping generation:
//   - a new condition type is added with lastTransitionTime now;
//   - a condition whose status changes gets a new lastTransitionTime;
//   - a condition whose status is unchanged keeps its lastTransitionTime, so that a steady
//     state re-sets the same condition without causing a status write.
func setCondition(conds *[]metav1.Condition, generation int64, typ string, status metav1.ConditionStatus, reason, message string) {
	if len(message) > maxMessageLength {
		message = message[:maxMessageLength-3] + "..."
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
	})
}

// setReadiness writes an outcome's Ready condition and its kstatus companion: Reconciling
// while progressing, Stalled when a person must act, neither once Ready.
func setReadiness(conds *[]metav1.Condition, generation int64, o *outcome) {
	if o.ready {
		setCondition(conds, generation, identityv1alpha1.ConditionReady, metav1.ConditionTrue, o.reason, o.message)
		clearProgress(conds)
		return
	}
	setCondition(conds, generation, identityv1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
	if o.stalled {
		markStalled(conds, generation, o.reason, o.message)
	} else {
		markReconciling(conds, generation, o.reason, o.message)
	}
}

// markReconciling sets Reconciling=True and removes Stalled: kstatus forbids both at once.
func markReconciling(conds *[]metav1.Condition, generation int64, reason, message string) {
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionStalled)
	setCondition(conds, generation, identityv1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
}

// markStalled sets Stalled=True and removes Reconciling: retrying cannot help.
func markStalled(conds *[]metav1.Condition, generation int64, reason, message string) {
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionReconciling)
	setCondition(conds, generation, identityv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
}

// clearProgress removes Reconciling and Stalled: the object is settled.
func clearProgress(conds *[]metav1.Condition) {
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionStalled)
}
