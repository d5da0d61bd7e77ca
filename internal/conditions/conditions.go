// Package conditions sets the status conditions phoneop's objects report: Ready with its
// kstatus companions (Reconciling while progressing, Stalled when a person must act) and the
// other condition types of the API. Both reconcilers and the change feed write conditions
// through it, so every condition is stamped, trimmed and transitioned the same way.
package conditions

import (
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// MaxMessageLength keeps condition messages readable in `kubectl describe` and under the API
// server's 32 KiB limit.
const MaxMessageLength = 1024

// Set sets one condition on conds, stamping generation:
//   - a new condition type is added with lastTransitionTime now;
//   - a condition whose status changes gets a new lastTransitionTime;
//   - a condition whose status is unchanged keeps its lastTransitionTime, so that a steady
//     state re-sets the same condition without causing a status write.
func Set(conds *[]metav1.Condition, generation int64, typ string, status metav1.ConditionStatus, reason, message string) {
	message = Truncate(message, MaxMessageLength)
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
	})
}

// Truncate cuts s to at most max bytes, ending in "...", on a rune boundary: a cut inside a
// multi-byte character (a name in another script) would be invalid UTF-8, which the API server
// refuses, and a message that differs on every retry would cost a status write each time.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Readiness is what a reconcile decided about an object's readiness.
type Readiness struct {
	// Ready: the object is converged.
	Ready bool
	// Stalled: not ready, and retrying cannot help until a person acts.
	Stalled bool
	Reason  string
	Message string
}

// SetReadiness writes the Ready condition and its kstatus companion: Reconciling while
// progressing, Stalled when a person must act, neither once Ready.
func SetReadiness(conds *[]metav1.Condition, generation int64, r Readiness) {
	if r.Ready {
		Set(conds, generation, identityv1alpha1.ConditionReady, metav1.ConditionTrue, r.Reason, r.Message)
		ClearProgress(conds)
		return
	}
	Set(conds, generation, identityv1alpha1.ConditionReady, metav1.ConditionFalse, r.Reason, r.Message)
	if r.Stalled {
		MarkStalled(conds, generation, r.Reason, r.Message)
	} else {
		MarkReconciling(conds, generation, r.Reason, r.Message)
	}
}

// MarkReconciling sets Reconciling=True and removes Stalled: kstatus forbids both at once.
func MarkReconciling(conds *[]metav1.Condition, generation int64, reason, message string) {
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionStalled)
	Set(conds, generation, identityv1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
}

// MarkStalled sets Stalled=True and removes Reconciling: retrying cannot help.
func MarkStalled(conds *[]metav1.Condition, generation int64, reason, message string) {
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionReconciling)
	Set(conds, generation, identityv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
}

// ClearProgress removes Reconciling and Stalled: the object is settled.
func ClearProgress(conds *[]metav1.Condition) {
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionStalled)
}
