package plan

import (
	"slices"
	"testing"

	"github.com/phoneop/phoneop/internal/gosource"
)

// reasonConstants returns the value of every string constant named Reason* in reasons.go, so
// that a reason added there is checked without anyone listing it here.
func reasonConstants(t *testing.T) []string {
	t.Helper()
	consts, err := gosource.StringConstants("reasons.go", "Reason")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range consts {
		out = append(out, v)
	}
	return out
}

// TestEveryReasonHasAKind: each reason the planner declares is produced by at least one case of
// the plan table, and every blocker the table produces carries a known kind. A new reason
// without a case, or a constructor that forgets its kind, fails here instead of silently
// counting as progress.
func TestEveryReasonHasAKind(t *testing.T) {
	kindsOf := map[string][]BlockerKind{}
	notices := map[string]bool{}
	for name, tc := range planCases() {
		res := Plan(tc.want, tc.got, tc.policy)
		if res.Notice != nil {
			notices[res.Notice.Reason] = true // a notice never blocks, so it has no kind
		}
		w := res.Wait
		if w == nil {
			continue
		}
		if !slices.Contains(BlockerKinds, w.Kind) {
			t.Errorf("case %q: blocker %s has kind %q, which is not in BlockerKinds", name, w.Reason, w.Kind)
		}
		kindsOf[w.Reason] = append(kindsOf[w.Reason], w.Kind)
	}
	for _, r := range reasonConstants(t) {
		if len(kindsOf[r]) == 0 && !notices[r] {
			t.Errorf("reason %s is declared but no plan case produces it: add a case (with its kind) to planCases", r)
		}
	}
}
