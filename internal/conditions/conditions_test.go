package conditions

import (
	"strings"
	"testing"
	"unicode/utf8"

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

// TestTruncateKeepsRunesWhole: a long message in another script is cut between characters.
func TestTruncateKeepsRunesWhole(t *testing.T) {
	cases := map[string]struct {
		in   string
		max  int
		want string
	}{
		"short enough":                   {in: "ok", max: 10, want: "ok"},
		"ASCII":                          {in: "abcdefghij", max: 8, want: "abcde..."},
		"a cut inside a 2-byte rune":     {in: "ééééé", max: 8, want: "éé..."},
		"a cut inside a 3-byte rune":     {in: "名前名前名前", max: 10, want: "名前..."},
		"exactly the limit is unchanged": {in: "ééé", max: 6, want: "ééé"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Truncate(tc.in, tc.max)
			if got != tc.want || len(got) > tc.max || !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q, want %q (valid UTF-8, at most %d bytes)", tc.in, tc.max, got, tc.want, tc.max)
			}
		})
	}
}
