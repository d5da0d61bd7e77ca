// Package lint checks rendered Kubernetes manifests against phoneop's Rego policy
// (policy/phoneop.rego) with OPA as a library: no linter binary to install, and the rules are
// ordinary files reviewed with the manifests they judge.
package lint

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"

	"github.com/open-policy-agent/opa/v1/rego"
	"sigs.k8s.io/yaml"
)

//go:embed policy/*.rego
var policies embed.FS

// Finding is one rule an object breaks.
type Finding struct {
	Object  string // Kind namespace/name
	Rule    string // the rule's id, as in ignore-check.phoneop.dev/<id>
	Message string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Object, f.Rule, f.Message) }

// Linter evaluates the policy; prepare it once and lint many objects.
type Linter struct {
	query rego.PreparedEvalQuery
}

// New compiles the embedded policy.
func New(ctx context.Context) (*Linter, error) {
	opts := []func(*rego.Rego){rego.Query("data.phoneop.lint.findings")}
	err := fs.WalkDir(policies, "policy", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := policies.ReadFile(path)
		opts = append(opts, rego.Module(path, string(src)))
		return err
	})
	if err != nil {
		return nil, err
	}
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compiling the policy: %w", err)
	}
	return &Linter{query: q}, nil
}

// Lint returns every finding for the objects of a multi-document YAML stream, sorted.
func (l *Linter) Lint(ctx context.Context, manifests []byte) ([]Finding, error) {
	objs, err := Decode(manifests)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, o := range objs {
		rs, err := l.query.Eval(ctx, rego.EvalInput(o))
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			for _, e := range r.Expressions {
				set, _ := e.Value.([]any)
				for _, v := range set {
					m, _ := v.(map[string]any)
					out = append(out, Finding{Object: describe(o), Rule: fmt.Sprint(m["rule"]), Message: fmt.Sprint(m["message"])})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

var separator = regexp.MustCompile(`(?m)^---\s*$`)

// Decode splits a YAML stream into objects (as JSON would decode them), skipping empty documents.
func Decode(manifests []byte) ([]map[string]any, error) {
	var objs []map[string]any
	for i, doc := range separator.Split(string(manifests), -1) {
		if len(bytes.TrimSpace([]byte(doc))) == 0 {
			continue
		}
		var o map[string]any
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(o) > 0 {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

func describe(o map[string]any) string {
	meta, _ := o["metadata"].(map[string]any)
	name := fmt.Sprint(meta["name"])
	if ns, ok := meta["namespace"].(string); ok && ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%v %s", o["kind"], name)
}
