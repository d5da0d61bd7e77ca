package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The test releases the real manager and plugin: two manager builds (amd64, arm64), one plugin
// build, two hack/image runs. With the build cache warm from `go test ./...` of the operator,
// that is links only; the plugin archives for the other platforms reuse the linux/amd64
// plugin, since what they test (archive, krew sha256) does not depend on the platform. One
// release (shared) serves every test that only reads it; a test that tampers works on a copy.
const (
	testVersion  = "v0.0.0-releasetest"
	testRevision = "0123456789abcdef"
)

var created = time.Unix(1767225600, 0).UTC()

type inputs struct {
	dir                        string
	managerAMD64, managerARM64 string
	plugin                     string
	images                     []string
	err                        error
}

var (
	buildOnce sync.Once
	built     inputs
)

// skipWhenShort keeps the tests that build whole binaries out of make unit (go test -short),
// the tier that answers in seconds: they need no control plane, but minutes of compiling.
func skipWhenShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the manager and the plugin for several platforms (minutes); make test runs it")
	}
}

// build compiles the binaries and images once for every test in the package.
func build(t *testing.T) inputs {
	t.Helper()
	skipWhenShort(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "release-test-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		root, _ := filepath.Abs("../..")
		// As the Makefile's RELEASE_LDFLAGS.
		ldflags := "-s -w -X github.com/phoneop/phoneop/internal/graph.Version=" + testVersion + " -X main.buildRevision=" + testRevision
		goBuild := func(goarch, out, pkg string) {
			if built.err != nil {
				return
			}
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
			if out, err := cmd.CombinedOutput(); err != nil {
				built.err = &buildError{cmd.String(), string(out), err}
			}
		}
		built.managerAMD64 = filepath.Join(dir, "manager-amd64")
		built.managerARM64 = filepath.Join(dir, "manager-arm64")
		built.plugin = filepath.Join(dir, "kubectl-phoneop")
		goBuild("amd64", built.managerAMD64, ".")
		goBuild("arm64", built.managerARM64, ".")
		goBuild("amd64", built.plugin, "./cmd/kubectl-phoneop")
		imageTool := filepath.Join(dir, "image-tool")
		if built.err == nil {
			cmd := exec.Command("go", "build", "-o", imageTool, ".")
			cmd.Dir = filepath.Join(root, "hack", "image")
			if out, err := cmd.CombinedOutput(); err != nil {
				built.err = &buildError{cmd.String(), string(out), err}
			}
		}
		for _, arch := range []string{"amd64", "arm64"} {
			if built.err != nil {
				return
			}
			out := filepath.Join(dir, "image-"+arch+".tar")
			cmd := exec.Command(imageTool, "--binary", filepath.Join(dir, "manager-"+arch), "--arch", arch,
				"--tag", "phoneop:"+testVersion, "--version", testVersion, "--out", out)
			cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1767225600")
			if o, err := cmd.CombinedOutput(); err != nil {
				built.err = &buildError{cmd.String(), string(o), err}
			}
			built.images = append(built.images, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built
}

type buildError struct {
	cmd, out string
	err      error
}

func (e *buildError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	if shared.srv != nil {
		shared.srv.Close()
		os.RemoveAll(shared.dist)
		os.RemoveAll(shared.work)
	}
	os.Exit(code)
}

// shared is one release of the test binaries, named for an in-process registry that lives as
// long as the test binary, so that TestPublish can push it.
var shared struct {
	once       sync.Once
	srv        *httptest.Server
	registry   string // host:port/platform
	dist, work string
	digest     name.Digest
	err        error
}

func sharedRelease(t *testing.T) (dist string, d name.Digest, reg string) {
	t.Helper()
	in := build(t)
	shared.once.Do(func() {
		shared.srv = httptest.NewServer(registry.New(registry.Logger(discardLogger())))
		u, _ := url.Parse(shared.srv.URL)
		shared.registry = u.Host + "/platform"
		if shared.dist, shared.err = os.MkdirTemp("", "release-dist-"); shared.err != nil {
			return
		}
		if shared.work, shared.err = os.MkdirTemp("", "release-work-"); shared.err != nil {
			return
		}
		shared.digest, shared.err = Assemble(config(in, shared.dist, shared.work, shared.registry+"/phoneop"))
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.dist, shared.digest, shared.registry
}

// linkCopy is a copy of dir made of hard links, to change a file of without touching dir:
// replace a file (os.WriteFile after os.Remove), never write into one.
func linkCopy(t *testing.T, dir string) string {
	t.Helper()
	cp := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Link(filepath.Join(dir, e.Name()), filepath.Join(cp, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return cp
}

// config is a release of the test binaries into dist for repository.
func config(in inputs, dist, work, repository string) Config {
	plugins := map[string]string{}
	for _, p := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		plugins[p] = in.plugin
	}
	return Config{
		Dist: dist, Work: work, Version: testVersion, Repository: repository, Images: in.images,
		Manager: in.managerAMD64, Plugins: plugins, License: "../../LICENSE", Created: created,
		DownloadBase: "https://github.com/phoneop/phoneop/releases/download/" + testVersion,
	}
}

func TestReleaseVerifies(t *testing.T) {
	dist, d, _ := sharedRelease(t)
	if err := VerifyDist(dist, ""); err != nil {
		t.Fatalf("a fresh dist/ does not verify: %v", err)
	}
	v, err := LoadVerifier(filepath.Join(dist, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := readSignatureFiles(dist)
	if err != nil {
		t.Fatal(err)
	}
	other := d.Context().Digest("sha256:" + strings.Repeat("0", 64))
	if err := VerifyDigest(v, s, other); err == nil {
		t.Errorf("the signature verified for %s, a digest it was not made for", other)
	}
	tamperedSig := Signature{Payload: bytes.Replace(s.Payload, []byte(d.DigestStr()), []byte(other.DigestStr()), 1), Sig: s.Sig}
	if err := VerifyDigest(v, tamperedSig, other); err == nil {
		t.Errorf("a payload edited to name another digest still verified")
	}

	// A changed archive must fail the krew check and SHA256SUMS.
	tampered := linkCopy(t, dist)
	archive := filepath.Join(tampered, "kubectl-phoneop_"+testVersion+"_darwin_arm64.tar.gz")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(archive); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verifyKrew(tampered); err == nil {
		t.Errorf("the krew manifest's sha256 still matched an archive that changed")
	}
	if err := verifySums(tampered); err == nil {
		t.Errorf("SHA256SUMS still matched an archive that changed")
	}
}

// TestReleaseIsReproducible packs the same binaries again (the image index, the SBOM and one
// plugin archive: the parts built from inputs; the krew manifest and SHA256SUMS only list
// them) and expects the same bytes.
func TestReleaseIsReproducible(t *testing.T) {
	dist1, d1, reg := sharedRelease(t)
	c := config(build(t), t.TempDir(), t.TempDir(), reg+"/phoneop")
	d2, err := writeIndex(c)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("two releases of the same binaries gave index digests %s and %s", d1, d2)
	}
	if err := writeSBOM(filepath.Join(c.Dist, ManagerSBOM), c.Manager, c.Created); err != nil {
		t.Fatal(err)
	}
	bin, _ := os.ReadFile(c.Plugins["linux/amd64"])
	license, _ := os.ReadFile(c.License)
	a, err := NewPluginArchive(c.Version, "linux", "amd64", bin, license, c.Created)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dist, a.Name), a.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ImageArchive, ManagerSBOM, a.Name} {
		x, _ := os.ReadFile(filepath.Join(dist1, f))
		y, _ := os.ReadFile(filepath.Join(c.Dist, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two releases of the same binaries (or is empty)", f)
		}
	}
}

// TestImageIndexPlatforms opens the index as a runtime would: one image per platform, and in
// each the /manager binary is for that platform: amd64's runs and reports its version, arm64's
// is checked by its ELF header, since this machine cannot run it.
func TestImageIndexPlatforms(t *testing.T) {
	dist, d, _ := sharedRelease(t)
	idx, err := readIndexArchive(filepath.Join(dist, ImageArchive), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.Digest(); got.String() != d.DigestStr() {
		t.Errorf("the archive holds %s, the signed digest is %s", got, d.DigestStr())
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, desc := range m.Manifests {
		platforms = append(platforms, desc.Platform.String())
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		bin := managerFromImage(t, img)
		path := filepath.Join(t.TempDir(), "manager")
		if err := os.WriteFile(path, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		switch desc.Platform.Architecture {
		case "amd64":
			out, err := exec.Command(path, "--version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "version="+testVersion+" revision="+testRevision) || !strings.Contains(string(out), "platform=linux/amd64") ||
				!strings.Contains(string(out), "fips140=false") {
				t.Errorf("linux/amd64 manager --version: %v\n%s", err, out)
			}
		case "arm64":
			f, err := elf.NewFile(bytes.NewReader(bin))
			if err != nil {
				t.Fatalf("the arm64 image's /manager is not ELF: %v", err)
			}
			if f.Machine != elf.EM_AARCH64 {
				t.Errorf("the arm64 image's /manager is for %v", f.Machine)
			}
		}
	}
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("platforms = %v, want linux/amd64 linux/arm64", platforms)
	}
}

func managerFromImage(t *testing.T, img v1.Image) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no manager in the image: %v", err)
		}
		if h.Name == "manager" {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// TestSBOMListsDirectDependencies: every module the operator's go.mod requires directly and
// the manager links is in the manager's SBOM at go.mod's version.
func TestSBOMListsDirectDependencies(t *testing.T) {
	dist, _, _ := sharedRelease(t)
	bom := readBOM(t, filepath.Join(dist, ManagerSBOM))
	got := map[string]string{}
	for _, c := range *bom.Components {
		got[c.Name] = c.Version
	}
	want := linkedDirectRequires(t)
	if _, ok := want["sigs.k8s.io/controller-runtime"]; !ok {
		t.Fatalf("the expectation itself is wrong: controller-runtime is not among %v", want)
	}
	for mod, version := range want {
		if got[mod] != version {
			t.Errorf("SBOM: %s at %q, want %s (a direct requirement in go.mod)", mod, got[mod], version)
		}
	}
	if c := bom.Metadata.Component; c == nil || c.Name != "github.com/phoneop/phoneop" || c.Hashes == nil {
		t.Errorf("SBOM metadata component = %+v, want the phoneop main module with the binary's sha256", c)
	}
	plugin := readBOM(t, filepath.Join(dist, PluginSBOM))
	if bi, _ := buildinfo.ReadFile(build(t).plugin); plugin.Metadata.Component.Name != bi.Main.Path || len(*plugin.Components) != len(bi.Deps) {
		t.Errorf("the plugin SBOM does not describe the plugin binary's %d modules", len(bi.Deps))
	}
}

func readBOM(t *testing.T, path string) *cdx.BOM {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	if bom.Components == nil || bom.Metadata == nil {
		t.Fatalf("%s has no components or metadata", path)
	}
	return &bom
}

// linkedDirectRequires is go.mod's direct requirements (go mod edit -json) that the manager's
// packages come from (go list -deps): test-only requirements are not in the binary.
func linkedDirectRequires(t *testing.T) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "mod", "edit", "-json")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod struct {
		Require []struct {
			Path, Version string
			Indirect      bool
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", ".")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err = cmd.Output(); err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, m := range strings.Fields(string(out)) {
		linked[m] = true
	}
	want := map[string]string{}
	for _, r := range mod.Require {
		if !r.Indirect && linked[r.Path] {
			want[r.Path] = r.Version
		}
	}
	return want
}

func TestPluginArchives(t *testing.T) {
	dist, _, _ := sharedRelease(t)
	data, err := os.ReadFile(filepath.Join(dist, "kubectl-phoneop_"+testVersion+"_linux_amd64.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	files := untarGz(t, data)
	if !bytes.Contains(files["LICENSE"], []byte("Apache License")) {
		t.Errorf("the archive has no Apache LICENSE")
	}
	bin := filepath.Join(t.TempDir(), "kubectl-phoneop")
	if err := os.WriteFile(bin, files["kubectl-phoneop"], 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), testVersion) {
		t.Errorf("kubectl-phoneop --version from the archive: %v\n%s (want %s)", err, out, testVersion)
	}
	krew, err := os.ReadFile(filepath.Join(dist, KrewManifestFn))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"os: linux\n        arch: amd64", "os: darwin\n        arch: arm64", "version: " + testVersion} {
		if !strings.Contains(string(krew), p) {
			t.Errorf("the krew manifest lacks %q:\n%s", p, krew)
		}
	}
}

func untarGz(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
}

// TestPublish pushes a release to an in-process registry and reads every piece back as
// cosign, oras and helm would.
func TestPublish(t *testing.T) {
	released, d, reg := sharedRelease(t)
	dist := linkCopy(t, released)
	writeTestChart(t, dist)

	if _, err := Publish(dist, t.TempDir(), "other.example.com/platform", testVersion); err == nil {
		t.Errorf("publishing to another registry than the signature names was allowed")
	}
	p, err := Publish(dist, t.TempDir(), reg, testVersion)
	if err != nil {
		t.Fatal(err)
	}

	tagged, err := remote.Index(d.Context().Tag(testVersion))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := tagged.Digest(); got.String() != d.DigestStr() {
		t.Errorf("%s is %s in the registry, want the signed %s", testVersion, got, d.DigestStr())
	}

	sigImg, err := remote.Image(SignatureTag(d))
	if err != nil {
		t.Fatalf("no signature at cosign's tag %s: %v", SignatureTag(d), err)
	}
	s, err := ReadSignature(sigImg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(filepath.Join(dist, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyDigest(v, s, d); err != nil {
		t.Errorf("the pushed signature does not verify: %v", err)
	}
	if err := VerifyDigest(v, s, d.Context().Digest("sha256:"+strings.Repeat("a", 64))); err == nil {
		t.Errorf("the pushed signature verified for a tampered digest")
	}

	refs, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	rm, _ := refs.IndexManifest()
	if len(rm.Manifests) != 1 || rm.Manifests[0].ArtifactType != CycloneDXMediaType || rm.Manifests[0].Digest.String() != p.SBOM.DigestStr() {
		t.Errorf("referrers of the index = %+v, want the one CycloneDX SBOM %s", rm.Manifests, p.SBOM)
	}

	chart, err := remote.Get(p.Chart)
	if err != nil {
		t.Fatal(err)
	}
	var cm v1.Manifest
	if err := json.Unmarshal(chart.Manifest, &cm); err != nil {
		t.Fatal(err)
	}
	if p.Chart.TagStr() != "0.0.0-releasetest" || cm.Config.MediaType != helmConfigType || len(cm.Layers) != 1 || cm.Layers[0].MediaType != helmChartType {
		t.Errorf("chart at %s: %+v, want Helm's config and one chart layer", p.Chart, cm)
	}
}

// writeTestChart puts a minimal packaged chart in dist (the real one is helm's to package).
func writeTestChart(t *testing.T, dist string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	chart := []byte("apiVersion: v2\nname: phoneop\nversion: 0.0.0-releasetest\nappVersion: " + testVersion + "\n")
	_ = tw.WriteHeader(&tar.Header{Name: "phoneop/Chart.yaml", Mode: 0o644, Size: int64(len(chart))})
	_, _ = tw.Write(chart)
	_ = tw.Close()
	_ = gz.Close()
	if err := os.WriteFile(filepath.Join(dist, "phoneop-0.0.0-releasetest.tgz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFIPSBuildReportsFIPSMode builds the manager as `make image FIPS=1` does (GOFIPS140 set to
// the Makefile's GOFIPS140_VERSION) and checks that the binary reports FIPS mode on; the
// default build's "fips140=false" is checked in TestImageIndexPlatforms.
func TestFIPSBuildReportsFIPSMode(t *testing.T) {
	skipWhenShort(t)
	version := makeVariable(t, "GOFIPS140_VERSION")
	bin := filepath.Join(t.TempDir(), "manager-fips")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFIPS140="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOFIPS140=%s go build: %v\n%s", version, err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "fips140=true") {
		t.Errorf("the FIPS build's --version: %v\n%s", err, out)
	}
}

// makeVariable reads a variable's default from the Makefile, so the test builds what make does.
func makeVariable(t *testing.T, name string) string {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "-f", "Makefile", "-f", "-", "print-var")
	cmd.Dir = "../.."
	cmd.Stdin = strings.NewReader("print-var:\n\t@echo $(" + name + ")\n")
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("make has no %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
