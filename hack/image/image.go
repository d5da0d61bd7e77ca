package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths inside the image. The CA bundle sits where Go's crypto/x509 looks first on Linux, so
// the manager finds it without SSL_CERT_FILE.
const (
	binaryPath = "/manager"
	caPath     = "/etc/ssl/certs/ca-certificates.crt"
	// nonRoot is distroless' "nonroot" user; the manifests' runAsUser matches it.
	nonRoot = 65532
)

// Spec is everything that goes into the image. Same Spec, same bytes: nothing here reads the
// clock, the environment or the file system.
type Spec struct {
	Binary   []byte            // the static manager binary
	CABundle []byte            // PEM CA certificates
	Created  time.Time         // image and file timestamps (SOURCE_DATE_EPOCH)
	Arch     string            // GOARCH of Binary
	Labels   map[string]string // OCI annotations as image labels
}

// Build assembles a single-layer image on top of nothing (empty.Image): no base image is
// downloaded, so the build works offline and the image holds only what is listed here.
func Build(s Spec) (v1.Image, error) {
	layerTar, err := rootFS(s)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: s.Created.UTC()}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: created, CreatedBy: "hack/image: manager binary, CA certificates, /etc/passwd"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS = "linux"
	cf.Architecture = s.Arch
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonRoot, nonRoot),
		Entrypoint: []string{binaryPath},
		WorkingDir: "/",
		Labels:     s.Labels,
	}
	return mutate.ConfigFile(img, cf)
}

// rootFS is the layer's tar: fixed timestamps, root-owned files (the non-root user cannot
// change them even without a read-only root filesystem), entries in a fixed order.
func rootFS(s Spec) ([]byte, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonRoot, nonRoot)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonRoot)
	type entry struct {
		name string
		mode int64
		data []byte // nil for a directory
	}
	entries := []entry{
		{"etc/", 0o755, nil},
		{"etc/group", 0o644, []byte(group)},
		{"etc/passwd", 0o644, []byte(passwd)},
		{"etc/ssl/", 0o755, nil},
		{"etc/ssl/certs/", 0o755, nil},
		{caPath[1:], 0o644, s.CABundle},
		{"home/", 0o755, nil},
		{"home/nonroot/", 0o700, nil},
		{binaryPath[1:], 0o755, s.Binary},
		{"tmp/", 0o1777, nil},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: s.Created.UTC(), Format: tar.FormatPAX}
		if e.data == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if e.name == "home/nonroot/" {
			h.Uid, h.Gid = nonRoot, nonRoot
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteArchive writes img as one tar that is both an OCI image layout (oci-layout, index.json,
// blobs/sha256/...; for skopeo oci-archive: and containerd) and a `docker save` archive
// (manifest.json naming the same blobs; for docker/podman load, kind load image-archive and
// crane push), the way `docker save` itself has written since Docker 25. Every header has the
// same fixed timestamp, so the same image always gives the same file.
func WriteArchive(w io.Writer, img v1.Image, ref string, mtime time.Time) error {
	files := map[string][]byte{}
	blob := func(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	files[blob(cfgName)] = rawCfg

	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var layerPaths []string
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		files[blob(d)] = data
		layerPaths = append(layerPaths, blob(d))
	}

	rawManifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	files[blob(digest)] = rawManifest

	files["oci-layout"] = []byte(`{"imageLayoutVersion":"1.0.0"}`)
	annotations, err := refAnnotations(ref)
	if err != nil {
		return err
	}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   types.OCIManifestSchema1,
			Digest:      digest,
			Size:        int64(len(rawManifest)),
			Annotations: annotations,
		}},
	}
	dockerManifest := tarball.Manifest{{Config: blob(cfgName), RepoTags: []string{ref}, Layers: layerPaths}}
	if files["index.json"], err = json.Marshal(index); err != nil {
		return err
	}
	if files["manifest.json"], err = json.Marshal(dockerManifest); err != nil {
		return err
	}
	files["blobs/"], files["blobs/sha256/"] = nil, nil // directories, for tools that do not create them

	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names) // a directory sorts before its contents
	tw := tar.NewWriter(w)
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n])), ModTime: mtime.UTC(), Format: tar.FormatPAX}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	return tw.Close()
}

// refAnnotations names the image in index.json the way `docker save` does: containerd's
// annotation holds the fully qualified name, because containerd (1.6) names an imported image
// by it verbatim while the CRI looks images up by their normalized name; a short "phoneop:dev"
// would import as an image the kubelet never finds. The OCI ref.name is the bare tag.
func refAnnotations(ref string) (map[string]string, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"io.containerd.image.name":          normalizedName(tag),
		"org.opencontainers.image.ref.name": tag.TagStr(),
	}, nil
}

// normalizedName is containerd's (and Docker's) normalized form of tag: a name with a
// registry host keeps it, a bare name is on docker.io, and a one-part Docker Hub repository
// is under library/. go-containerregistry spells Docker Hub "index.docker.io"; containerd
// spells it "docker.io".
func normalizedName(tag name.Tag) string {
	registry := tag.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	return registry + "/" + tag.RepositoryStr() + ":" + tag.TagStr()
}
