package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/phoneop/phoneop/internal/gosource"
)

// reasons returns the condition reasons the operator can set, from their Go declarations
// (every string constant named Reason*), so a reason added to the code without a
// troubleshooting row fails here.
func reasons(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range []string{"api/v1alpha1/conditions.go", "internal/plan/reasons.go"} {
		consts, err := gosource.StringConstants(filepath.Join(repoRoot(t), f), "Reason")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range consts {
			out = append(out, v)
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d reasons; did the declarations move?", len(out))
	}
	return out
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTroubleshootingCoversEveryReason: operations.md has one table row per reason.
func TestTroubleshootingCoversEveryReason(t *testing.T) {
	doc := readDoc(t, "operations.md")
	_, table, ok := strings.Cut(doc, "## Troubleshooting by condition reason")
	if !ok {
		t.Fatal("operations.md has no '## Troubleshooting by condition reason' section")
	}
	for _, r := range reasons(t) {
		if n := strings.Count(table, "\n| `"+r+"` |"); n != 1 {
			t.Errorf("operations.md's troubleshooting table has %d rows for reason %s, want 1", n, r)
		}
	}
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)#\s:]+\.(?:md|lua))(#[^)]*)?\)`)
	mdHeading = regexp.MustCompile(`(?m)^#+ (.+)$`)
	runbook   = regexp.MustCompile(`runbook_url: \S+/docs/([a-z-]+\.md)#(\S+)`)
)

// anchor is GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(doc, -1) {
		out[anchor(m[1])] = true
	}
	return out
}

// TestDocsLinks: relative links (no scheme) between the docs, and the alerts' runbook URLs, point at files
// and headings that exist.
func TestDocsLinks(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join(repoRoot(t), "docs", "*.md"))
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := filepath.Join(filepath.Dir(path), m[1])
			tb, err := os.ReadFile(target)
			if err != nil {
				t.Errorf("%s links to %s, which does not exist", filepath.Base(path), m[1])
				continue
			}
			if m[2] != "" && !anchors(string(tb))[m[2][1:]] {
				t.Errorf("%s links to %s%s, which has no such heading", filepath.Base(path), m[1], m[2])
			}
		}
	}
	alerts, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range runbook.FindAllStringSubmatch(string(alerts), -1) {
		if !anchors(readDoc(t, m[1]))[m[2]] {
			t.Errorf("alerts.yaml's runbook %s#%s names no heading of docs/%s", m[1], m[2], m[1])
		}
	}
}

// TestDocsExamples dry-runs every YAML example in docs/ made only of core and phoneop objects
// (Flux, Argo CD and Prometheus objects need CRDs the test control plane does not have), so
// the examples users copy stay valid against the CRDs' schemas and CEL rules.
func TestDocsExamples(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join(repoRoot(t), "docs", "*.md"))
	tested := 0
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, block := range yamlBlocks(string(b)) {
			objs := decode(t, []byte(block))
			if len(objs) == 0 || !allKnownAPIs(objs) {
				continue
			}
			tested++
			t.Run(filepath.Base(path)+"#"+strconv.Itoa(i), func(t *testing.T) {
				// Namespaces must exist for real for a dry run of objects inside them.
				for _, o := range objs {
					if o.GetKind() == "Namespace" {
						createNamespace(t, o.GetName())
					} else if ns := o.GetNamespace(); ns != "" {
						createNamespace(t, ns)
					}
				}
				dryRun(t, []byte(block))
			})
		}
	}
	if tested < 5 {
		t.Errorf("dry-ran only %d examples; did the docs lose their examples?", tested)
	}
}

func allKnownAPIs(objs []*unstructured.Unstructured) bool {
	for _, o := range objs {
		switch o.GetAPIVersion() {
		case "v1", "identity.phoneop.dev/v1alpha1":
		default:
			return false
		}
	}
	return true
}
