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

func readScript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "argocd", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type healthCase struct {
	object      string
	wantStatus  string
	wantMessage string // a substring
}

func checkHealth(t *testing.T, script string, cases map[string]healthCase) {
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			status, message := health(t, script, c.object)
			if status != c.wantStatus || !strings.Contains(message, c.wantMessage) {
				t.Errorf("got %s %q, want %s with a message containing %q", status, message, c.wantStatus, c.wantMessage)
			}
		})
	}
}

func TestArgoCDHealthPhoneAuthMethod(t *testing.T) {
	checkHealth(t, readScript(t, "phoneauthmethod.lua"), map[string]healthCase{
		"new object without status": {
			object:     `{metadata: {name: kim-mobile, generation: 1}, spec: {phoneType: mobile}}`,
			wantStatus: "Progressing", wantMessage: "Waiting for phoneop"},
		"ready": {
			object: `{metadata: {generation: 3}, status: {observedGeneration: 3, conditions: [
				{type: Ready, status: "True", reason: Synced, message: "The phone in Graph matches the spec", observedGeneration: 3},
				{type: Synced, status: "True", reason: Synced, message: "ok", observedGeneration: 3}]}}`,
			wantStatus: "Healthy", wantMessage: "Synced"},
		"progressing: creating in Graph": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "False", reason: Creating, message: "Creating the phone method", observedGeneration: 1},
				{type: Reconciling, status: "True", reason: Creating, message: "Creating the phone method", observedGeneration: 1}]}}`,
			wantStatus: "Progressing", wantMessage: "Creating"},
		"progressing: a new spec not yet reconciled, though Ready for the old one": {
			object: `{metadata: {generation: 4}, status: {observedGeneration: 3, conditions: [
				{type: Ready, status: "True", reason: Synced, message: "ok", observedGeneration: 3}]}}`,
			wantStatus: "Progressing", wantMessage: "generation 4"},
		"progressing: throttled": {
			object: `{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [
				{type: Ready, status: "False", reason: Throttled, message: "Graph throttled phoneop", observedGeneration: 2},
				{type: Reconciling, status: "True", reason: Throttled, message: "Graph throttled phoneop", observedGeneration: 2}]}}`,
			wantStatus: "Progressing", wantMessage: "Throttled"},
		"degraded: stalled on an invalid number": {
			object: `{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [
				{type: Ready, status: "False", reason: InvalidNumber, message: "Graph rejected the number", observedGeneration: 2},
				{type: Stalled, status: "True", reason: InvalidNumber, message: "Graph rejected the number", observedGeneration: 2}]}}`,
			wantStatus: "Degraded", wantMessage: "InvalidNumber: Graph rejected the number"},
		"degraded: stalled for a new generation whose observedGeneration has not moved": {
			object: `{metadata: {generation: 5}, status: {observedGeneration: 4, conditions: [
				{type: Ready, status: "False", reason: SecretNotFound, message: "Secret kim-phone not found", observedGeneration: 5},
				{type: Stalled, status: "True", reason: SecretNotFound, message: "Secret kim-phone not found", observedGeneration: 5}]}}`,
			wantStatus: "Degraded", wantMessage: "SecretNotFound"},
		"not degraded: a Stalled left from an older spec": {
			object: `{metadata: {generation: 6}, status: {observedGeneration: 5, conditions: [
				{type: Ready, status: "False", reason: InvalidNumber, message: "old", observedGeneration: 5},
				{type: Stalled, status: "True", reason: InvalidNumber, message: "old", observedGeneration: 5}]}}`,
			wantStatus: "Progressing", wantMessage: "generation 6"},
		"degraded: conflict with an older object": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "False", reason: Conflict, message: "team-a/kim-mobile already manages this phone", observedGeneration: 1},
				{type: Synced, status: "False", reason: Conflict, message: "team-a/kim-mobile already manages this phone", observedGeneration: 1},
				{type: Stalled, status: "True", reason: Conflict, message: "team-a/kim-mobile already manages this phone", observedGeneration: 1}]}}`,
			wantStatus: "Degraded", wantMessage: "Conflict: team-a/kim-mobile"},
		"suspended: ObserveOnly found differences": {
			object: `{metadata: {generation: 1}, spec: {managementPolicy: ObserveOnly}, status: {observedGeneration: 1, plannedActions: ["create mobile +1 *******554"], conditions: [
				{type: Ready, status: "False", reason: Planned, message: "ObserveOnly: 1 planned action", observedGeneration: 1},
				{type: Reconciling, status: "True", reason: Planned, message: "ObserveOnly: 1 planned action", observedGeneration: 1}]}}`,
			wantStatus: "Suspended", wantMessage: "Planned"},
		"suspended: paused while Ready": {
			object: `{metadata: {generation: 2, annotations: {phoneop.dev/paused: "true"}}, status: {observedGeneration: 2, conditions: [
				{type: Ready, status: "True", reason: Synced, message: "matches", observedGeneration: 1},
				{type: Synced, status: "False", reason: Paused, message: "The object carries phoneop.dev/paused", observedGeneration: 2}]}}`,
			wantStatus: "Suspended", wantMessage: "Paused"},
		"suspended, not degraded: paused while not Ready": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "False", reason: Conflict, message: "owned elsewhere", observedGeneration: 1},
				{type: Synced, status: "False", reason: Paused, message: "EntraTenant contoso carries phoneop.dev/paused", observedGeneration: 1}]}}`,
			wantStatus: "Suspended", wantMessage: "Paused"},
		"healthy: CreateOnly kept an existing phone": {
			object: `{metadata: {generation: 1}, spec: {managementPolicy: CreateOnly}, status: {observedGeneration: 1, plannedActions: ["UpdateNumber mobile +1 *******151"], conditions: [
				{type: Ready, status: "True", reason: ExistingPhoneKept, message: "CreateOnly kept the mobile phone", observedGeneration: 1},
				{type: Synced, status: "True", reason: Synced, message: "ok", observedGeneration: 1}]}}`,
			wantStatus: "Healthy", wantMessage: "ExistingPhoneKept"},
	})
}

func TestArgoCDHealthEntraTenant(t *testing.T) {
	checkHealth(t, readScript(t, "entratenant.lua"), map[string]healthCase{
		"new object without status": {
			object:     `{metadata: {generation: 1}}`,
			wantStatus: "Progressing", wantMessage: "Waiting for phoneop"},
		"ready": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "True", reason: Synced, message: "phoneop obtained a Graph token for the tenant"}]}}`,
			wantStatus: "Healthy", wantMessage: "Graph token"},
		"progressing: an edited spec not yet checked": {
			object: `{metadata: {generation: 2}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "True", reason: Synced, message: "ok"}]}}`,
			wantStatus: "Progressing", wantMessage: "generation 2"},
		"progressing: a transient failure being retried": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "False", reason: TenantNotReady, message: "Reading the tenant's credentials failed; phoneop retries"}]}}`,
			wantStatus: "Progressing", wantMessage: "TenantNotReady"},
		"degraded: invalid credentials": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "False", reason: CredentialsInvalid, message: "Secret phoneop-system/contoso-graph-app has no key clientSecret"}]}}`,
			wantStatus: "Degraded", wantMessage: "CredentialsInvalid"},
		"degraded: stalled": {
			object: `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
				{type: Ready, status: "False", reason: Forbidden, message: "no"},
				{type: Stalled, status: "True", reason: Forbidden, message: "the app lacks a permission"}]}}`,
			wantStatus: "Degraded", wantMessage: "permission"},
	})
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
		"resource.customizations.health.identity.phoneop.dev_PhoneAuthMethod": "phoneauthmethod.lua",
		"resource.customizations.health.identity.phoneop.dev_EntraTenant":     "entratenant.lua",
	} {
		if cm.Data[key] != readScript(t, file) {
			t.Errorf("docs/argocd-health.md's %s differs from docs/argocd/%s", key, file)
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
