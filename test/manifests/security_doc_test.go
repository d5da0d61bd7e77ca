package manifests

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityDocNamesRealTests: every test docs/security.md cites as proof of a guarantee is
// declared somewhere in the repository, so a renamed or deleted test cannot leave a guarantee
// that nothing proves.
func TestSecurityDocNamesRealTests(t *testing.T) {
	root := repoRoot(t)
	declared := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			declared[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`(Test[A-Za-z0-9_]+)`").FindAllStringSubmatch(readDoc(t, "security.md"), -1)
	if len(cited) < 20 {
		t.Fatalf("security.md cites only %d tests; did it lose its guarantees table?", len(cited))
	}
	for _, m := range cited {
		if !declared[m[1]] {
			t.Errorf("docs/security.md cites %s, which no _test.go file declares", m[1])
		}
	}
}
