package controllers_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/phoneop/phoneop"

// TestLeafPackagesDoNotImportControllers keeps the layering the package tree shows: the
// reconcilers in controllers/ orchestrate the packages under internal/ and api/, never the
// other way round. A leaf that needs something of controllers/ means that piece belongs in a
// leaf package of its own.
func TestLeafPackagesDoNotImportControllers(t *testing.T) {
	for _, root := range []string{"../internal", "../api"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			for _, imp := range importsOf(t, path) {
				if imp == module+"/controllers" || strings.HasPrefix(imp, module+"/cmd/") {
					t.Errorf("%s imports %s: leaf packages must not depend on the reconcilers or the plugin", path, imp)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTheManagerDoesNotLinkTheEmulator: the Graph emulator and the test harness are test
// equipment; the manager binary must not carry them.
func TestTheManagerDoesNotLinkTheEmulator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "..").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"/internal/graphemu", "/internal/testharness", "/internal/graph/graphtest"} {
			if pkg == module+banned {
				t.Errorf("the manager links %s", pkg)
			}
		}
	}
}

// maxControllerLines bounds the non-test Go of controllers/: the two reconcilers and what only
// they use. A package past it is growing machinery that belongs in a leaf package of its own,
// where it can be read and tested without the reconcilers.
const maxControllerLines = 2500

// TestControllersOnlyOrchestrate keeps controllers/ at the size a newcomer can read in one
// sitting.
func TestControllersOnlyOrchestrate(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines += strings.Count(string(b), "\n")
	}
	t.Logf("controllers/ holds %d non-test lines (at most %d)", lines, maxControllerLines)
	if lines > maxControllerLines {
		t.Errorf("controllers/ holds %d non-test lines, more than %d: move what is not orchestration into a package under internal/", lines, maxControllerLines)
	}
}

func importsOf(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		out = append(out, p)
	}
	return out
}
