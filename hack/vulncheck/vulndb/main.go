// Command vulndb builds a Go vulnerability database that govulncheck reads with
// -db file:///path, from the OSV reports in golang.org/x/vulndb's data/osv, a module the Go
// module proxy serves. It is for machines that reach the module proxy but not vuln.go.dev.
//
// x/vulndb's own cmd/gendb does this from a git clone (it dates each entry from the history);
// the module zip has no history, so every entry is dated with the module version's time. That
// only affects govulncheck's "modified" metadata, not which vulnerabilities it reports.
//
//	go run ./vulndb -version v0.0.0-20261105234957-e22db6528018 -out ../../bin/vulndb
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

func main() {
	version := flag.String("version", "", "golang.org/x/vulndb pseudo-version to build from (the module proxy serves it)")
	out := flag.String("out", "", "directory to write the database to; replaced when complete")
	flag.Parse()
	if err := run(*version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

// run downloads the vulndb module through the module proxy (go mod download), builds the
// database next to out and renames it into place, so an interrupted build leaves no half DB.
func run(version, out string) error {
	modified, err := module.PseudoVersionTime(version)
	if err != nil {
		return fmt.Errorf("-version %q is not a pseudo-version: %w", version, err)
	}
	dl, err := exec.Command("go", "mod", "download", "-json", "golang.org/x/vulndb@"+version).Output()
	if err != nil {
		return fmt.Errorf("go mod download golang.org/x/vulndb@%s: %w", version, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(dl, &m); err != nil || m.Dir == "" {
		return fmt.Errorf("go mod download gave no directory: %v", err)
	}
	tmp := out + ".tmp"
	os.RemoveAll(tmp)
	n, err := Build(filepath.Join(m.Dir, "data", "osv"), tmp, modified)
	if err != nil {
		return err
	}
	os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("vulndb: %d reports from golang.org/x/vulndb@%s in %s\n", n, version, out)
	return nil
}

// entry is the part of an OSV report the index needs; the report itself is copied whole.
type entry struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Events []struct {
				Fixed string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

// The database's v1 layout (golang.org/x/vuln/internal/client): index/db.json,
// index/modules.json, index/vulns.json, and ID/<id>.json per report.
type (
	dbMeta struct {
		Modified time.Time `json:"modified"`
	}
	moduleMeta struct {
		Path  string       `json:"path"`
		Vulns []moduleVuln `json:"vulns"`
	}
	moduleVuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	vulnMeta struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
)

// Build writes the database for every *.json report in src into out and returns how many
// reports it holds.
func Build(src, out string, modified time.Time) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV reports in %s", src)
	}
	modified = modified.UTC()
	modules := map[string][]moduleVuln{}
	var vulns []vulnMeta
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil || e.ID == "" {
			return 0, fmt.Errorf("%s is not an OSV report: %v", f, err)
		}
		if err := writeJSONRaw(filepath.Join(out, "ID", e.ID+".json"), raw); err != nil {
			return 0, err
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			modules[a.Package.Name] = append(modules[a.Package.Name], moduleVuln{ID: e.ID, Modified: modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	var index []moduleMeta
	for path, vs := range modules {
		sort.Slice(vs, func(i, j int) bool { return vs[i].ID < vs[j].ID })
		index = append(index, moduleMeta{Path: path, Vulns: vs})
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	for name, v := range map[string]any{"db": dbMeta{modified}, "modules": index, "vulns": vulns} {
		raw, err := json.Marshal(v)
		if err != nil {
			return 0, err
		}
		if err := writeJSONRaw(filepath.Join(out, "index", name+".json"), raw); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// latestFixed is the highest "fixed" version of a package's ranges (the index's hint of the
// version to move to); govulncheck decides from the report itself.
func latestFixed(ranges []struct {
	Events []struct {
		Fixed string `json:"fixed"`
	} `json:"events"`
}) string {
	latest := ""
	for _, r := range ranges {
		for _, e := range r.Events {
			if e.Fixed != "" && semverLess(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
	}
	return latest
}

// semverLess compares MAJOR.MINOR.PATCH numerically (pre-release suffixes are ignored: the
// hint only needs the highest release).
func semverLess(a, b string) bool {
	if a == "" {
		return true
	}
	pa, pb := strings.Split(strings.SplitN(a, "-", 2)[0], "."), strings.Split(strings.SplitN(b, "-", 2)[0], ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		var x, y int
		fmt.Sscan(pa[i], &x)
		fmt.Sscan(pb[i], &y)
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

func writeJSONRaw(path string, raw []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}
