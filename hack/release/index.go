package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LoadImageArchive reads the single image of a `make image` tar (hack/image) after unpacking
// it into workDir, which must outlive the image (its blobs are read from there). The tar is an
// OCI image layout, and reading it as one (rather than as a `docker save` archive) keeps the
// manifest's bytes, so the per-architecture digests in the index are those hack/image printed.
func LoadImageArchive(path, workDir string) (v1.Image, error) {
	if err := untar(path, workDir); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	idx, err := layout.ImageIndexFromPath(workDir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", path, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%s holds %d images, want the one hack/image writes", path, len(m.Manifests))
	}
	return idx.Image(m.Manifests[0].Digest)
}

// BuildIndex puts one image per architecture into an OCI image index, in the order given, so
// the same images always give the same index digest. The platform comes from each image's
// config, the place a runtime checks it against.
func BuildIndex(images []v1.Image) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				MediaType: types.OCIManifestSchema1,
				Platform:  &v1.Platform{OS: cf.OS, Architecture: cf.Architecture},
			},
		})
	}
	return idx, nil
}

// WriteIndexArchive writes idx as a tar holding an OCI image layout (oci-layout, index.json,
// blobs/sha256/...): `skopeo copy oci-archive:`, `crane push` (after untar) and containerd
// read it. index.json names the image index with its tag in org.opencontainers.image.ref.name,
// the layout spec's own annotation. Fixed timestamps and sorted entries make it reproducible.
func WriteIndexArchive(w io.Writer, idx v1.ImageIndex, ref string, mtime time.Time) error {
	files := map[string][]byte{}
	if err := addIndexBlobs(files, idx); err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	top := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   types.OCIImageIndex,
			Digest:      digest,
			Size:        int64(len(raw)),
			Annotations: map[string]string{"org.opencontainers.image.ref.name": ref},
		}},
	}
	if files["index.json"], err = json.Marshal(top); err != nil {
		return err
	}
	files["oci-layout"] = []byte(`{"imageLayoutVersion":"1.0.0"}`)
	files["blobs/"], files["blobs/sha256/"] = nil, nil
	return writeTar(w, files, mtime)
}

// addIndexBlobs adds the index manifest and, for every image in it, its manifest, config and
// layers, keyed by their blob paths.
func addIndexBlobs(files map[string][]byte, idx v1.ImageIndex) error {
	blob := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	if files[blob(digest)], err = idx.RawManifest(); err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		if files[blob(d.Digest)], err = img.RawManifest(); err != nil {
			return err
		}
		cfg, err := img.ConfigName()
		if err != nil {
			return err
		}
		if files[blob(cfg)], err = img.RawConfigFile(); err != nil {
			return err
		}
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			ld, err := l.Digest()
			if err != nil {
				return err
			}
			rc, err := l.Compressed()
			if err != nil {
				return err
			}
			files[blob(ld)], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// writeTar writes files sorted by name (a directory, ending in "/", before its contents),
// every entry with the same mtime and mode, so equal inputs give an equal tar.
func writeTar(w io.Writer, files map[string][]byte, mtime time.Time) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n])), ModTime: mtime.UTC(), Format: tar.FormatPAX}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
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

// untar unpacks the regular files and directories of a tar into dir, refusing names that
// would land outside it.
func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("entry %q leaves the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr)
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
