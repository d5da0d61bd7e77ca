package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"path"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"
)

// Media types of what publish pushes besides the image.
const (
	CycloneDXMediaType = "application/vnd.cyclonedx+json"
	emptyMediaType     = "application/vnd.oci.empty.v1+json"
	helmConfigType     = "application/vnd.cncf.helm.config.v1+json"
	helmChartType      = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// SignatureImage is the manifest `cosign sign` pushes: one simple-signing layer carrying the
// signature in an annotation. `cosign verify --key` finds it by its tag (SignatureTag).
func SignatureImage(s Signature) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return mutate.Append(img, mutate.Addendum{
		Layer:       static.NewLayer(s.Payload, SimpleSigningMediaType),
		MediaType:   SimpleSigningMediaType,
		Annotations: map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(s.Sig)},
	})
}

// SignatureTag is cosign's tag for the signatures of digest d: sha256-<hex>.sig.
func SignatureTag(d name.Digest) name.Tag {
	h, _ := v1.NewHash(d.DigestStr())
	return d.Context().Tag(fmt.Sprintf("%s-%s.sig", h.Algorithm, h.Hex))
}

// ReadSignature reads back what SignatureImage wrote (for tests and `release verify`).
func ReadSignature(img v1.Image) (Signature, error) {
	m, err := img.Manifest()
	if err != nil {
		return Signature{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return Signature{}, err
	}
	if len(layers) != 1 || len(m.Layers) != 1 {
		return Signature{}, fmt.Errorf("want one simple-signing layer, got %d", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		return Signature{}, err
	}
	defer rc.Close()
	p, err := io.ReadAll(rc)
	if err != nil {
		return Signature{}, err
	}
	sig, err := base64.StdEncoding.DecodeString(m.Layers[0].Annotations[SignatureAnnotation])
	return Signature{Payload: p, Sig: sig}, err
}

// artifact is an OCI 1.1 artifact manifest built by hand: go-containerregistry's mutate
// package has no artifactType or "{}" empty config, which the SBOM referrer and the Helm chart
// need. It implements remote.Taggable.
type artifact struct {
	manifest []byte
	blobs    []v1.Layer // config first, then the layers
}

func (a artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func newArtifact(artifactType string, config v1.Layer, layers []v1.Layer, subject *v1.Descriptor, annotations map[string]string) (artifact, error) {
	desc := func(l v1.Layer) (v1.Descriptor, error) {
		d, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		sz, err := l.Size()
		if err != nil {
			return v1.Descriptor{}, err
		}
		mt, err := l.MediaType()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: sz}, err
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Subject: subject, Annotations: annotations}
	var err error
	if m.Config, err = desc(config); err != nil {
		return artifact{}, err
	}
	for _, l := range layers {
		d, err := desc(l)
		if err != nil {
			return artifact{}, err
		}
		m.Layers = append(m.Layers, d)
	}
	raw, err := json.Marshal(struct {
		v1.Manifest
		ArtifactType string `json:"artifactType,omitempty"`
	}{m, artifactType})
	return artifact{manifest: raw, blobs: append([]v1.Layer{config}, layers...)}, err
}

// put uploads an artifact's blobs, then its manifest under ref (a tag or its own digest).
func (a artifact) put(ref name.Reference, opts ...remote.Option) error {
	for _, b := range a.blobs {
		if err := remote.WriteLayer(ref.Context(), b, opts...); err != nil {
			return err
		}
	}
	return remote.Put(ref, a, opts...)
}

// SBOMReferrer is the SBOM attached to the image index as an OCI referrer (subject = the
// index), found with `oras discover` or `cosign tree` and the registry's referrers API.
func SBOMReferrer(sbom []byte, subject v1.Descriptor, title string) (artifact, error) {
	return newArtifact(CycloneDXMediaType, static.NewLayer([]byte("{}"), emptyMediaType),
		[]v1.Layer{static.NewLayer(sbom, CycloneDXMediaType)}, &subject,
		map[string]string{"org.opencontainers.image.title": title})
}

// HelmChart is a packaged chart as `helm push` stores it: Chart.yaml as JSON in the config,
// the .tgz as the one layer; `helm install oci://REGISTRY/charts/phoneop --version X` reads it.
func HelmChart(tgz []byte) (artifact, string, error) {
	meta, err := chartMetadata(tgz)
	if err != nil {
		return artifact{}, "", err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(meta, &v); err != nil {
		return artifact{}, "", err
	}
	a, err := newArtifact("", static.NewLayer(meta, helmConfigType), []v1.Layer{static.NewLayer(tgz, helmChartType)}, nil, nil)
	return a, v.Version, err
}

// chartMetadata returns the chart's Chart.yaml (the file directly under the top directory) as JSON.
func chartMetadata(tgz []byte) ([]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("the chart has no Chart.yaml")
		}
		if err != nil {
			return nil, err
		}
		if path.Base(h.Name) == "Chart.yaml" && path.Dir(path.Dir(h.Name)) == "." {
			y, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			return yaml.YAMLToJSON(y)
		}
	}
}
