package export_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/export"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// holdsNumber tells whether a file has one of the seeded numbers in clear.
func holdsNumber(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range seedUsers {
		for _, m := range u.methods {
			if strings.Contains(string(b), m.PhoneNumber) {
				return true
			}
		}
	}
	return false
}

// assertPrivate walks root: every file holding a number is 0600, and every directory on the
// way is the owner's only (0700: no group or other bit).
func assertPrivate(t *testing.T, root string) (numberFiles int) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := info.Mode().Perm()
		switch {
		case d.IsDir() && perm&0o077 != 0:
			t.Errorf("directory %s is %#o, want 0700 (it holds numbers)", p, perm)
		case !d.IsDir() && holdsNumber(t, p):
			numberFiles++
			if perm != 0o600 {
				t.Errorf("%s holds a number and is %#o, want 0600", p, perm)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return numberFiles
}

// Files that hold numbers are the owner's only, in directories only the owner can list:
// the Secrets by default, the PhoneAuthMethods themselves with --inline-numbers.
func TestExportWritesNumbersPrivately(t *testing.T) {
	cases := map[string]struct {
		inline bool
		// private is the directory that holds the numbers.
		private func(export.Options) string
	}{
		"numbers in Secrets":  {private: func(o export.Options) string { return o.SecretsDir }},
		"numbers kept inline": {inline: true, private: func(o export.Options) string { return o.OutputDir }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tn := newTenant(t)
			o := options(t.TempDir())
			o.InlineNumbers = tc.inline
			if _, err := export.Run(context.Background(), tn.client(t), tn.users, o); err != nil {
				t.Fatal(err)
			}
			if n := assertPrivate(t, tc.private(o)); n == 0 {
				t.Fatalf("no file under %s holds a number: the test checks nothing", tc.private(o))
			}
		})
	}
}

// A rerun never loosens what is there: a Secret file a person made read-only stays so, a
// Secret file an older version wrote 0644 is tightened, and an existing directory is not
// chmodded but reported.
func TestExportNeverLoosensModes(t *testing.T) {
	tn := newTenant(t)
	o := options(t.TempDir())
	c := tn.client(t)
	if _, err := export.Run(context.Background(), c, tn.users, o); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(o.SecretsDir, "team-a", "kim.contoso.com.yaml")
	olderVersion := filepath.Join(o.SecretsDir, "team-a", "lee.contoso.com.yaml")
	gitFile := filepath.Join(o.OutputDir, "team-a", "kustomization.yaml")
	looseDir := filepath.Join(o.SecretsDir, "team-a")
	for path, mode := range map[string]os.FileMode{readOnly: 0o400, olderVersion: 0o644, gitFile: 0o600, looseDir: 0o755} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	// A changed number makes the read-only file be rewritten, not merely left alone.
	if err := tn.env.Emulator.SetPhoneMethod(tenantID, "kim@contoso.com", graphemu.PhoneMethod{PhoneType: "alternateMobile", PhoneNumber: "+1 2065550103"}); err != nil {
		t.Fatal(err)
	}
	res, err := export.Run(context.Background(), c, tn.users, o)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{readOnly: 0o400, olderVersion: 0o600, gitFile: 0o600, looseDir: 0o755} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s is %#o after the rerun, want %#o", path, got, want)
		}
	}
	if len(res.LooseDirs) != 1 || res.LooseDirs[0] != looseDir {
		t.Errorf("loose directories reported: %v, want [%s]", res.LooseDirs, looseDir)
	}
}
