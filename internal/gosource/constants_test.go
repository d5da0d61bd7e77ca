package gosource

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStringConstants(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.go")
	src := `package x

const (
	ReasonA = "A"
	ReasonB, ReasonC = "B", "C"
	reasonLower = "lower"
	OtherD = "D"
	ReasonNumber = 4
)

const ReasonE = ` + "`E`" + `
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := StringConstants(path, "Reason")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ReasonA": "A", "ReasonB": "B", "ReasonC": "C", "ReasonE": "E"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StringConstants: -want +got:\n%s", diff)
	}
	if _, err := StringConstants(path, "Missing"); err == nil {
		t.Error("no matching constants must be an error, so a moved declaration fails loudly")
	}
}
