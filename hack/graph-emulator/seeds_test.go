package main

import (
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// The shipped seeds load: the example, and the brownfield users docs/adoption.md merges into
// make demo's tenant (which must therefore load after hack/demo/seed.json).
func TestShippedSeedsLoad(t *testing.T) {
	e := graphemu.New(graphemu.Options{})
	for _, f := range []string{"example-seed.json", "../demo/seed.json", "brownfield-seed.json"} {
		if err := loadSeedFile(e, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	d := e.Dump()
	if len(d.Groups) != 3 {
		t.Fatalf("%d groups, want 3 (example's sales, brownfield's sales and sales-emea)", len(d.Groups))
	}
}
