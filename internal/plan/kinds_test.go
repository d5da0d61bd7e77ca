package plan

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// reasonConstants parses reasons.go and returns the value of every string constant named
// Reason*, so that a reason added there is checked without anyone listing it here.
func reasonConstants(t *testing.T) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "reasons.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Reason") && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, v)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no Reason constants in reasons.go; did they move?")
	}
	return out
}

// TestEveryReasonHasAKind: each reason the planner declares is produced by at least one case of
// the plan table, and every blocker the table produces carries a known kind. A new reason
// without a case, or a constructor that forgets its kind, fails here instead of silently
// counting as progress.
func TestEveryReasonHasAKind(t *testing.T) {
	kindsOf := map[string][]BlockerKind{}
	for name, tc := range planCases() {
		w := Plan(tc.want, tc.got, tc.policy).Wait
		if w == nil {
			continue
		}
		if !slices.Contains(BlockerKinds, w.Kind) {
			t.Errorf("case %q: blocker %s has kind %q, which is not in BlockerKinds", name, w.Reason, w.Kind)
		}
		kindsOf[w.Reason] = append(kindsOf[w.Reason], w.Kind)
	}
	for _, r := range reasonConstants(t) {
		if len(kindsOf[r]) == 0 {
			t.Errorf("reason %s is declared but no plan case produces it: add a case (with its kind) to planCases", r)
		}
	}
}
