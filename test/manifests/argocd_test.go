package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// health runs an Argo CD health script the way Argo CD does: the object as the global `obj`,
// and the script returns a table with status and message.
func health(t *testing.T, script string, object string) (status, message string) {
	t.Helper()
	var o map[string]any
	if err := yaml.Unmarshal([]byte(object), &o); err != nil {
		t.Fatalf("bad test object: %v", err)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	// Argo CD opens only these standard libraries.
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, o))
	if err := L.DoString(script); err != nil {
		t.Fatalf("the script failed: %v", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the script returned %s, want a table", L.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message"))
}

// toLua converts decoded JSON into Lua values as Argo CD does: objects and arrays become
// tables (arrays 1-indexed), numbers become Lua numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	}
	panic(fmt.Sprintf("unexpected %T", v))
}

// customizations is where the health checks live, laid out as Argo CD's own
// resource_customizations/<group>/<kind>/ directory (health.lua, health_test.yaml, testdata/),
// so they can be contributed upstream as they are (docs/argocd-health.md).
const customizations = "docs/argocd/resource_customizations/identity.phoneop.dev"

func readScript(t *testing.T, kind string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), customizations, kind, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// healthTests is Argo CD's health_test.yaml: each test names an object under testdata/ and the
// exact status and message the script must return for it.
type healthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

// TestArgoCDHealthChecks runs every kind's health_test.yaml the way Argo CD's own test does
// (exact status and message), with the harness above. Each kind's tests must cover every
// status the script can return, so a branch cannot lose its test unnoticed.
func TestArgoCDHealthChecks(t *testing.T) {
	for kind, statuses := range map[string][]string{
		"PhoneAuthMethod": {"Healthy", "Progressing", "Degraded", "Suspended"},
		"EntraTenant":     {"Healthy", "Progressing", "Degraded"},
	} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(repoRoot(t), customizations, kind)
			script := readScript(t, kind)
			raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var ht healthTests
			if err := yaml.UnmarshalStrict(raw, &ht); err != nil {
				t.Fatalf("health_test.yaml: %v", err)
			}
			seen := map[string]bool{}
			for _, tc := range ht.Tests {
				t.Run(strings.TrimSuffix(filepath.Base(tc.InputPath), ".yaml"), func(t *testing.T) {
					object, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
					if err != nil {
						t.Fatal(err)
					}
					status, message := health(t, script, string(object))
					if status != tc.HealthStatus.Status || message != tc.HealthStatus.Message {
						t.Errorf("got %s %q, want %s %q", status, message, tc.HealthStatus.Status, tc.HealthStatus.Message)
					}
				})
				seen[tc.HealthStatus.Status] = true
			}
			for _, s := range statuses {
				if !seen[s] {
					t.Errorf("no test expects %s", s)
				}
			}
		})
	}
}

// TestArgoCDHealthDocsMatchScripts: docs/argocd-health.md embeds the scripts in an argocd-cm
// ConfigMap for copy and paste; it must carry exactly the tested files.
func TestArgoCDHealthDocsMatchScripts(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "argocd-health.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	for _, block := range yamlBlocks(string(md)) {
		if strings.Contains(block, "name: argocd-cm") {
			if err := yaml.Unmarshal([]byte(block), &cm); err != nil {
				t.Fatalf("the argocd-cm block does not parse: %v", err)
			}
		}
	}
	for key, file := range map[string]string{
		"resource.customizations.health.identity.phoneop.dev_PhoneAuthMethod": "PhoneAuthMethod",
		"resource.customizations.health.identity.phoneop.dev_EntraTenant":     "EntraTenant",
	} {
		if cm.Data[key] != readScript(t, file) {
			t.Errorf("docs/argocd-health.md's %s differs from %s/%s/health.lua", key, customizations, file)
		}
	}
}

var yamlFence = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// yamlBlocks returns the contents of the ```yaml fences of a Markdown document.
func yamlBlocks(md string) []string {
	var blocks []string
	for _, m := range yamlFence.FindAllStringSubmatch(md, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}
