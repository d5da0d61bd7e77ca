package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var (
	fakeBinary = []byte("\x7fELF not really a manager")
	fakeCA     = []byte("-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n")
	created    = time.Unix(1767225600, 0) // 2026-01-01, as SOURCE_DATE_EPOCH would give
)

func build(t *testing.T) (v1.Image, []byte) {
	t.Helper()
	img, err := Build(Spec{Binary: fakeBinary, CABundle: fakeCA, Created: created, Arch: "amd64", Labels: Labels("v0.1.0", "abc123")})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img, "example.com/phoneop:v0.1.0", created); err != nil {
		t.Fatal(err)
	}
	return img, buf.Bytes()
}

func TestConfig(t *testing.T) {
	img, _ := build(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user = %q, want the non-root 65532:65532 the manifests' runAsUser expects", cf.Config.User)
	}
	if !reflect.DeepEqual(cf.Config.Entrypoint, []string{"/manager"}) {
		t.Errorf("entrypoint = %q, want [/manager]", cf.Config.Entrypoint)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created = %v, want SOURCE_DATE_EPOCH %v", cf.Created.Time, created)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.title":    "phoneop",
		"org.opencontainers.image.source":   "https://github.com/phoneop/phoneop",
		"org.opencontainers.image.version":  "v0.1.0",
		"org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.licenses": "Apache-2.0",
	} {
		if got := cf.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || len(m.Layers) != 1 {
		t.Errorf("manifest: media type %s with %d layers, want an OCI manifest with one layer", m.MediaType, len(m.Layers))
	}
}

func TestLayerContents(t *testing.T) {
	img, _ := build(t)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		contents[h.Name], _ = io.ReadAll(tr)
		if !h.ModTime.Equal(created) {
			t.Errorf("%s: mtime %v, want the fixed %v", h.Name, h.ModTime, created)
		}
	}
	if !bytes.Equal(contents["etc/ssl/certs/ca-certificates.crt"], fakeCA) {
		t.Errorf("the layer does not carry the CA bundle at etc/ssl/certs/ca-certificates.crt")
	}
	if h := files["manager"]; h == nil || h.Mode != 0o755 || h.Uid != 0 || !bytes.Equal(contents["manager"], fakeBinary) {
		t.Errorf("manager: %+v; want the binary, root-owned and 0755 (executable, not writable by the runtime user)", h)
	}
	if !bytes.Contains(contents["etc/passwd"], []byte("nonroot:x:65532:65532:")) {
		t.Errorf("etc/passwd has no nonroot user 65532:\n%s", contents["etc/passwd"])
	}
}

func TestReproducible(t *testing.T) {
	img1, tar1 := build(t)
	img2, tar2 := build(t)
	d1, err := img1.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := img2.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("two builds gave digests %s and %s", d1, d2)
	}
	if sha256.Sum256(tar1) != sha256.Sum256(tar2) {
		t.Errorf("two builds gave different tar files")
	}
}

// TestArchiveLoads reads the tar back the way `docker load` and crane do (manifest.json) and
// checks it holds the same image.
func TestArchiveLoads(t *testing.T) {
	img, data := build(t)
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("example.com/phoneop:v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.ConfigName()
	got, err := loaded.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("loaded config %s, want %s", got, want)
	}
	// The OCI layout half: index.json and oci-layout must be there for oci-archive readers.
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	d, _ := img.Digest()
	for _, n := range []string{"oci-layout", "index.json", "manifest.json", "blobs/sha256/" + d.Hex} {
		if !names[n] {
			t.Errorf("archive has no %s", n)
		}
	}
}

// TestRefAnnotations checks index.json names the image as `docker save` does: containerd's
// annotation normalized (the CRI finds an image only by that name), ref.name the bare tag.
func TestRefAnnotations(t *testing.T) {
	cases := map[string]struct{ containerd, refName string }{
		"phoneop:dev":                       {"docker.io/library/phoneop:dev", "dev"},
		"phoneop":                           {"docker.io/library/phoneop:latest", "latest"},
		"someone/phoneop:v1":                {"docker.io/someone/phoneop:v1", "v1"},
		"docker.io/phoneop:v1":              {"docker.io/library/phoneop:v1", "v1"},
		"index.docker.io/library/phoneop:1": {"docker.io/library/phoneop:1", "1"},
		"ghcr.io/phoneop/phoneop:v0.1.0":    {"ghcr.io/phoneop/phoneop:v0.1.0", "v0.1.0"},
		"localhost:5000/phoneop:dev":        {"localhost:5000/phoneop:dev", "dev"},
		"registry.local/team/sub/phoneop:x": {"registry.local/team/sub/phoneop:x", "x"},
	}
	for ref, want := range cases {
		got, err := refAnnotations(ref)
		if err != nil {
			t.Errorf("%s: %v", ref, err)
			continue
		}
		if got["io.containerd.image.name"] != want.containerd || got["org.opencontainers.image.ref.name"] != want.refName {
			t.Errorf("%s: annotations %v, want io.containerd.image.name=%s ref.name=%s", ref, got, want.containerd, want.refName)
		}
	}
}

// TestArchiveNamesImage reads index.json back from a written archive.
func TestArchiveNamesImage(t *testing.T) {
	img, _ := build(t)
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img, "phoneop:dev", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no index.json in the archive: %v", err)
		}
		if h.Name != "index.json" {
			continue
		}
		var index v1.IndexManifest
		if err := json.NewDecoder(tr).Decode(&index); err != nil {
			t.Fatal(err)
		}
		got := index.Manifests[0].Annotations["io.containerd.image.name"]
		if got != "docker.io/library/phoneop:dev" {
			t.Errorf("io.containerd.image.name = %q, want docker.io/library/phoneop:dev", got)
		}
		return
	}
}
