package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Names of what Assemble writes into dist/ (besides the plugin archives).
const (
	ImageArchive   = "phoneop-image.oci.tar"      // the OCI image index, all platforms
	ImageDigest    = "phoneop-image.digest"       // repository@sha256:... of the index
	SignatureFile  = "phoneop-image.sig"          // base64 signature, as `cosign sign --output-signature`
	PayloadFile    = "phoneop-image.payload.json" // the simple-signing payload it signs
	PublicKeyFile  = "cosign.pub"
	ManagerSBOM    = "phoneop-manager.cdx.json"
	PluginSBOM     = "kubectl-phoneop.cdx.json"
	KrewManifestFn = "phoneop.krew.yaml"
	ChecksumsFile  = "SHA256SUMS"
)

// Config is the input of one release. The Makefile builds the binaries and the per-platform
// images; Assemble only packs, describes, signs and sums them, so it is quick to test.
type Config struct {
	Dist       string            // output directory; install.yaml and the chart .tgz may already be there
	Work       string            // scratch space that outlives Assemble's images
	Version    string            // vX.Y.Z
	Repository string            // REGISTRY/phoneop, the name the signature claims
	Images     []string          // hack/image tars, one per platform, in index order
	Manager    string            // a manager binary for the SBOM (linux/amd64)
	Plugins    map[string]string // "os/arch" -> kubectl-phoneop binary
	License    string            // LICENSE to put in each archive
	Key        string            // PEM private key; "" generates a throw-away one into Work
	Created    time.Time         // SOURCE_DATE_EPOCH
	// DownloadBase is the URL the krew manifest points at; each archive is DownloadBase/<name>.
	DownloadBase string
}

// Assemble writes the release into c.Dist and returns the signed image digest.
func Assemble(c Config) (name.Digest, error) {
	digest, err := writeIndex(c)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image index: %w", err)
	}
	if err := writeSignature(c, digest); err != nil {
		return name.Digest{}, fmt.Errorf("signature: %w", err)
	}
	for file, bin := range map[string]string{ManagerSBOM: c.Manager, PluginSBOM: c.Plugins["linux/amd64"]} {
		if err := writeSBOM(filepath.Join(c.Dist, file), bin, c.Created); err != nil {
			return name.Digest{}, fmt.Errorf("SBOM: %w", err)
		}
	}
	if err := writePlugin(c); err != nil {
		return name.Digest{}, fmt.Errorf("kubectl plugin: %w", err)
	}
	if err := WriteChecksums(c.Dist); err != nil {
		return name.Digest{}, err
	}
	return digest, nil
}

func writeIndex(c Config) (name.Digest, error) {
	var images []v1.Image
	for i, tar := range c.Images {
		img, err := LoadImageArchive(tar, filepath.Join(c.Work, fmt.Sprintf("layout-%d", i)))
		if err != nil {
			return name.Digest{}, err
		}
		images = append(images, img)
	}
	idx, err := BuildIndex(images)
	if err != nil {
		return name.Digest{}, err
	}
	var buf bytes.Buffer
	if err := WriteIndexArchive(&buf, idx, c.Version, c.Created); err != nil {
		return name.Digest{}, err
	}
	if err := os.WriteFile(filepath.Join(c.Dist, ImageArchive), buf.Bytes(), 0o644); err != nil {
		return name.Digest{}, err
	}
	h, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	d, err := name.NewDigest(c.Repository + "@" + h.String())
	if err != nil {
		return name.Digest{}, err
	}
	return d, os.WriteFile(filepath.Join(c.Dist, ImageDigest), []byte(d.String()+"\n"), 0o644)
}

// writeSignature signs the index digest. Without a key it makes a throw-away pair and says so:
// such a signature proves only that dist/ is unchanged since this build, not who built it.
func writeSignature(c Config, d name.Digest) error {
	key := c.Key
	if key == "" {
		key = filepath.Join(c.Work, "throwaway-cosign.key")
		if err := GenerateKey(key, filepath.Join(c.Dist, PublicKeyFile)); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "release: no SIGNING_KEY: signed with a throw-away key (dist/cosign.pub); CI signs keyless or with the project's key (docs/install.md)")
	}
	signer, err := LoadSigner(key)
	if err != nil {
		return err
	}
	if c.Key != "" {
		if err := writePublicKey(signer, filepath.Join(c.Dist, PublicKeyFile)); err != nil {
			return err
		}
	}
	s, err := SignDigest(signer, d)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Dist, PayloadFile), s.Payload, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Dist, SignatureFile), []byte(base64.StdEncoding.EncodeToString(s.Sig)), 0o644)
}

func writeSBOM(path, binary string, created time.Time) error {
	bom, err := SBOM(binary, created)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WriteSBOM(&buf, bom); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writePlugin writes one archive per platform, packed in parallel (gzip of a 30 MB binary is
// seconds each), and the krew manifest listing them in a fixed order.
func writePlugin(c Config) error {
	license, err := os.ReadFile(c.License)
	if err != nil {
		return err
	}
	platforms := make([]string, 0, len(c.Plugins))
	for p := range c.Plugins {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	archives := make([]PluginArchive, len(platforms))
	errs := make([]error, len(platforms))
	var wg sync.WaitGroup
	for i, p := range platforms {
		wg.Go(func() {
			bin, err := os.ReadFile(c.Plugins[p])
			if err != nil {
				errs[i] = err
				return
			}
			goos, goarch, _ := strings.Cut(p, "/")
			if archives[i], errs[i] = NewPluginArchive(c.Version, goos, goarch, bin, license, c.Created); errs[i] != nil {
				return
			}
			errs[i] = os.WriteFile(filepath.Join(c.Dist, archives[i].Name), archives[i].Data, 0o644)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	manifest, err := KrewManifest(c.Version, c.DownloadBase, archives)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Dist, KrewManifestFn), manifest, 0o644)
}

// WriteChecksums writes SHA256SUMS for every file in dir (not in subdirectories), in the
// format `sha256sum -c` reads.
func WriteChecksums(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range entries { // ReadDir sorts by name
		if !e.Type().IsRegular() || e.Name() == ChecksumsFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), e.Name())
	}
	return os.WriteFile(filepath.Join(dir, ChecksumsFile), []byte(b.String()), 0o644)
}
