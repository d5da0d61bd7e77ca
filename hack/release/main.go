// Command release packs a phoneop release (make release) and publishes it (make publish).
// Its own module: go-containerregistry, sigstore and CycloneDX stay out of the operator's
// go.mod, as hack/image's dependencies do.
//
//	release assemble -dist dist -work bin/release -version v0.2.0 -repository R/phoneop \
//	  -image bin/release/image-amd64.tar -image bin/release/image-arm64.tar \
//	  -manager bin/release/manager-linux-amd64 -plugin linux/amd64=bin/release/kubectl-phoneop-linux-amd64 ...
//	release publish -dist dist -work bin/release -registry R -version v0.2.0
//	release verify -dist dist   # checks the signature, the krew sha256s and SHA256SUMS
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: release assemble|publish|verify [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "assemble":
		err = assembleCmd(os.Args[2:])
	case "publish":
		err = publishCmd(os.Args[2:])
	case "verify":
		err = verifyCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func assembleCmd(args []string) error {
	fs := flag.NewFlagSet("assemble", flag.ExitOnError)
	var c Config
	var images, plugins list
	fs.StringVar(&c.Dist, "dist", "dist", "output directory")
	fs.StringVar(&c.Work, "work", "bin/release", "scratch directory")
	fs.StringVar(&c.Version, "version", "", "release version (vX.Y.Z)")
	fs.StringVar(&c.Repository, "repository", "", "image repository the signature names (REGISTRY/phoneop)")
	fs.Var(&images, "image", "a hack/image tar, once per platform, in index order")
	fs.StringVar(&c.Manager, "manager", "", "linux/amd64 manager binary, for the SBOM")
	fs.Var(&plugins, "plugin", "os/arch=path of a kubectl-phoneop binary, once per platform")
	fs.StringVar(&c.License, "license", "LICENSE", "license file for the plugin archives")
	fs.StringVar(&c.Key, "key", "", "PEM signing key (cosign's, with COSIGN_PASSWORD); empty: a throw-away key")
	fs.StringVar(&c.DownloadBase, "download-base", "", "URL the krew manifest downloads the archives from")
	_ = fs.Parse(args)
	c.Images = images
	c.Plugins = map[string]string{}
	for _, p := range plugins {
		platform, path, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("-plugin %q: want os/arch=path", p)
		}
		c.Plugins[platform] = path
	}
	var err error
	if c.Created, err = sourceDateEpoch(); err != nil {
		return err
	}
	d, err := Assemble(c)
	if err != nil {
		return err
	}
	fmt.Println("signed", d)
	return nil
}

func publishCmd(args []string) error {
	fs := flag.NewFlagSet("publish", flag.ExitOnError)
	dist := fs.String("dist", "dist", "what make release wrote")
	work := fs.String("work", "bin/release", "scratch directory")
	registry := fs.String("registry", "", "registry and path prefix, e.g. registry.example.com/platform")
	version := fs.String("version", "", "the tag for the image index")
	_ = fs.Parse(args)
	if *registry == "" || *version == "" {
		return fmt.Errorf("-registry and -version are required")
	}
	// The docker config (~/.docker/config.json, credential helpers) holds the push credentials,
	// as for crane, cosign and helm.
	p, err := Publish(*dist, *work, *registry, *version, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return err
	}
	fmt.Printf("image     %s (tag %s)\nsignature %s\nsbom      %s\nchart     %s\n", p.Index, *version, p.Signature, p.SBOM, p.Chart)
	return nil
}

func verifyCmd(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	dist := fs.String("dist", "dist", "what make release wrote")
	key := fs.String("key", "", "public key to verify with (default: dist/cosign.pub)")
	_ = fs.Parse(args)
	return VerifyDist(*dist, *key)
}

// sourceDateEpoch is the reproducible-builds "time of this build" (the commit time in make).
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
