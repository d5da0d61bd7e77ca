// Command image builds phoneop's container image without a Docker engine: the static manager
// binary, the build machine's CA bundle and a non-root user, in one layer on an empty image,
// written as a tar that docker/podman load and OCI tools read. Reproducible: the same inputs
// and SOURCE_DATE_EPOCH give a byte-identical tar (and image digest).
//
// Usage: make image, or from the repository root (hack/image is its own module, and -C makes
// relative paths relative to hack/image, hence $PWD):
//
//	go -C hack/image run . --binary "$PWD/dist/image/manager" --out "$PWD/dist/phoneop-image.tar" --tag phoneop:dev
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run() error {
	binary := flag.String("binary", "", "the static (CGO_ENABLED=0) linux manager binary")
	caBundle := flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM CA certificates to install at "+caPath)
	out := flag.String("out", "dist/phoneop-image.tar", "the image tar to write")
	tag := flag.String("tag", "phoneop:dev", "the image reference recorded in the tar")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH the binary was built for")
	version := flag.String("version", "dev", "org.opencontainers.image.version label")
	revision := flag.String("revision", "", "org.opencontainers.image.revision label (git commit)")
	flag.Parse()
	if *binary == "" {
		return fmt.Errorf("--binary is required")
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("--tag: %w", err)
	}
	created, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(*binary)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(*caBundle)
	if err != nil {
		return fmt.Errorf("reading the CA bundle (install ca-certificates or pass --ca-bundle): %w", err)
	}
	img, err := Build(Spec{Binary: bin, CABundle: ca, Created: created, Arch: *arch, Labels: Labels(*version, *revision)})
	if err != nil {
		return err
	}
	// Write next to the target and rename, so an interrupted build never leaves a torn tar.
	f, err := os.CreateTemp(filepath.Dir(*out), ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := WriteArchive(f, img, ref.String(), created); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), *out); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s %s\n", *out, ref.String(), digest)
	return nil
}

// Labels are the OCI annotations every phoneop image carries.
func Labels(version, revision string) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "phoneop",
		"org.opencontainers.image.description": "Kubernetes operator for Microsoft Entra phone authentication methods",
		"org.opencontainers.image.source":      "https://github.com/phoneop/phoneop",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     version,
	}
	if revision != "" {
		l["org.opencontainers.image.revision"] = revision
	}
	return l
}

// sourceDateEpoch is the reproducible-builds convention for "the time of this build": set it to
// the commit time to stamp the image with something meaningful; unset means the Unix epoch.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time: %w", v, err)
	}
	return time.Unix(secs, 0).UTC(), nil
}
