package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Published is where Publish put each piece.
type Published struct {
	Index     name.Digest // REGISTRY/phoneop@sha256:... (also tagged with the version)
	Signature name.Tag    // cosign's sha256-<hex>.sig tag
	SBOM      name.Digest // the referrer holding the manager's SBOM
	Chart     name.Tag    // REGISTRY/charts/phoneop:<chart version>
}

// Publish pushes what Assemble wrote in dist: the image index under version, its signature
// where cosign looks, the manager's SBOM as a referrer of the index, and the chart where
// `helm install oci://REGISTRY/charts/phoneop` finds it. The signature names the repository it
// was made for, so publishing to another registry than the release was built for is refused.
func Publish(dist, work, registry, version string, opts ...remote.Option) (Published, error) {
	var p Published
	signed, err := os.ReadFile(filepath.Join(dist, ImageDigest))
	if err != nil {
		return p, err
	}
	if p.Index, err = name.NewDigest(strings.TrimSpace(string(signed))); err != nil {
		return p, err
	}
	repo := p.Index.Context()
	want, err := name.NewRepository(strings.TrimSuffix(registry, "/") + "/phoneop")
	if err != nil {
		return p, err
	}
	if repo.Name() != want.Name() {
		return p, fmt.Errorf("dist/ was signed for %s, not %s: run make release with the same REGISTRY", repo.Name(), want.Name())
	}
	idx, err := readIndexArchive(filepath.Join(dist, ImageArchive), filepath.Join(work, "publish-layout"))
	if err != nil {
		return p, err
	}
	if d, err := idx.Digest(); err != nil || d.String() != p.Index.DigestStr() {
		return p, fmt.Errorf("%s holds %v, but %s was signed: rebuild dist/", ImageArchive, d, p.Index.DigestStr())
	}
	if err := remote.WriteIndex(repo.Tag(version), idx, opts...); err != nil {
		return p, fmt.Errorf("pushing the image index: %w", err)
	}
	if p.Signature, err = pushSignature(dist, p.Index, opts...); err != nil {
		return p, fmt.Errorf("pushing the signature: %w", err)
	}
	if p.SBOM, err = pushSBOM(dist, idx, p.Index, opts...); err != nil {
		return p, fmt.Errorf("pushing the SBOM: %w", err)
	}
	if p.Chart, err = pushChart(dist, registry, opts...); err != nil {
		return p, fmt.Errorf("pushing the chart: %w", err)
	}
	return p, nil
}

// readIndexArchive unpacks an ImageArchive into dir and returns the image index it names.
func readIndexArchive(path, dir string) (v1.ImageIndex, error) {
	if err := untar(path, dir); err != nil {
		return nil, err
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	m, err := top.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%s names %d entries, want one image index", path, len(m.Manifests))
	}
	return top.ImageIndex(m.Manifests[0].Digest)
}

func pushSignature(dist string, d name.Digest, opts ...remote.Option) (name.Tag, error) {
	s, err := readSignatureFiles(dist)
	if err != nil {
		return name.Tag{}, err
	}
	img, err := SignatureImage(s)
	if err != nil {
		return name.Tag{}, err
	}
	tag := SignatureTag(d)
	return tag, remote.Write(tag, img, opts...)
}

// readSignatureFiles reads the payload and the base64 signature Assemble wrote.
func readSignatureFiles(dist string) (Signature, error) {
	p, err := os.ReadFile(filepath.Join(dist, PayloadFile))
	if err != nil {
		return Signature{}, err
	}
	b64, err := os.ReadFile(filepath.Join(dist, SignatureFile))
	if err != nil {
		return Signature{}, err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	return Signature{Payload: p, Sig: sig}, err
}

func pushSBOM(dist string, idx v1.ImageIndex, d name.Digest, opts ...remote.Option) (name.Digest, error) {
	sbom, err := os.ReadFile(filepath.Join(dist, ManagerSBOM))
	if err != nil {
		return name.Digest{}, err
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return name.Digest{}, err
	}
	mt, err := idx.MediaType()
	if err != nil {
		return name.Digest{}, err
	}
	h, _ := v1.NewHash(d.DigestStr())
	a, err := SBOMReferrer(sbom, v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(raw))}, ManagerSBOM)
	if err != nil {
		return name.Digest{}, err
	}
	ref := d.Context().Digest("sha256:" + sha256Hex(a.manifest))
	return ref, a.put(ref, opts...)
}

func pushChart(dist, registry string, opts ...remote.Option) (name.Tag, error) {
	charts, err := filepath.Glob(filepath.Join(dist, "phoneop-*.tgz"))
	if err != nil || len(charts) != 1 {
		return name.Tag{}, fmt.Errorf("want one chart dist/phoneop-*.tgz, found %v", charts)
	}
	tgz, err := os.ReadFile(charts[0])
	if err != nil {
		return name.Tag{}, err
	}
	a, version, err := HelmChart(tgz)
	if err != nil {
		return name.Tag{}, err
	}
	// OCI tags cannot hold "+", so Helm stores build metadata as "_".
	tag, err := name.NewTag(strings.TrimSuffix(registry, "/") + "/charts/phoneop:" + strings.ReplaceAll(version, "+", "_"))
	if err != nil {
		return name.Tag{}, err
	}
	return tag, a.put(tag, opts...)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
