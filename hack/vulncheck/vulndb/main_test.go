package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	reports := map[string]string{
		"GO-2024-0001.json": `{"id":"GO-2024-0001","aliases":["CVE-2024-1"],"affected":[{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"},{"fixed":"1.10.1"}]}]}]}`,
		"GO-2024-0002.json": `{"id":"GO-2024-0002","affected":[{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.3"}]}]}]}`,
	}
	for name, r := range reports {
		if err := os.WriteFile(filepath.Join(src, name), []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	when := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	n, err := Build(src, out, when)
	if err != nil || n != 2 {
		t.Fatalf("Build = %d, %v; want 2 reports", n, err)
	}
	var modules []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &modules)
	want := []moduleMeta{
		{Path: "example.com/a", Vulns: []moduleVuln{{ID: "GO-2024-0001", Modified: when, Fixed: "1.10.1"}, {ID: "GO-2024-0002", Modified: when}}},
		{Path: "stdlib", Vulns: []moduleVuln{{ID: "GO-2024-0002", Modified: when, Fixed: "1.26.3"}}},
	}
	got, _ := json.Marshal(modules)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("modules.json = %s\nwant %s", got, wantJSON)
	}
	var db dbMeta
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if !db.Modified.Equal(when) {
		t.Errorf("db.json modified %v, want %v", db.Modified, when)
	}
	entry, err := os.ReadFile(filepath.Join(out, "ID", "GO-2024-0001.json"))
	if err != nil || string(entry) != reports["GO-2024-0001.json"] {
		t.Errorf("ID/GO-2024-0001.json is not the report as given: %v", err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
