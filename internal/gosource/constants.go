// Package gosource reads declarations from Go source files, for tests that check that names
// declared in one place (condition reasons, say) are covered everywhere else they must be
// (API constants, kinds, troubleshooting rows) without anyone keeping a list by hand.
package gosource

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// StringConstants returns name → value of every top-level string constant in the Go file at
// path whose name starts with prefix.
func StringConstants(path, prefix string) (map[string]string, error) {
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) || !strings.HasPrefix(name.Name, prefix) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if out[name.Name], err = strconv.Unquote(lit.Value); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no string constants named %s* in %s; did they move?", prefix, path)
	}
	return out, nil
}
