package conditions

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// TestSetReadiness: kstatus never sees Reconciling and Stalled together, and a Ready object
// carries neither.
func TestSetReadiness(t *testing.T) {
	cases := map[string]struct {
		readiness            Readiness
		ready                metav1.ConditionStatus
		reconciling, stalled bool
	}{
		"converged":   {readiness: Readiness{Ready: true, Reason: "Synced"}, ready: metav1.ConditionTrue},
		"in progress": {readiness: Readiness{Reason: "Waiting"}, ready: metav1.ConditionFalse, reconciling: true},
		"stalled":     {readiness: Readiness{Stalled: true, Reason: "Forbidden"}, ready: metav1.ConditionFalse, stalled: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// Start from the opposite companions, so that each case must remove them.
			var conds []metav1.Condition
			MarkStalled(&conds, 1, "Before", "before")
			MarkReconciling(&conds, 1, "Before", "before")
			SetReadiness(&conds, 2, tc.readiness)
			if got := meta.FindStatusCondition(conds, identityv1alpha1.ConditionReady); got == nil || got.Status != tc.ready || got.ObservedGeneration != 2 {
				t.Errorf("Ready = %+v, want %s at generation 2", got, tc.ready)
			}
			if got := meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionReconciling); got != tc.reconciling {
				t.Errorf("Reconciling = %v, want %v", got, tc.reconciling)
			}
			if got := meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionStalled); got != tc.stalled {
				t.Errorf("Stalled = %v, want %v", got, tc.stalled)
			}
		})
	}
}

// TestSetTrimsLongMessages keeps a condition under the API server's limits.
func TestSetTrimsLongMessages(t *testing.T) {
	var conds []metav1.Condition
	Set(&conds, 1, identityv1alpha1.ConditionReady, metav1.ConditionFalse, "Long", strings.Repeat("x", 5000))
	if got := len(conds[0].Message); got != MaxMessageLength || !strings.HasSuffix(conds[0].Message, "...") {
		t.Errorf("message of %d bytes, want %d ending in ...", got, MaxMessageLength)
	}
}
