package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// SBOM describes one Go binary in CycloneDX from the build information the Go linker embeds
// (what `go version -m` prints): the main module, every module linked in with its version and
// go.sum hash, and the build settings. It reads the binary, not go.mod, so it lists exactly
// what shipped, for whichever GOOS/GOARCH the binary was built.
func SBOM(binaryPath string, created time.Time) (*cdx.BOM, error) {
	data, err := os.ReadFile(binaryPath)
	if err != nil {
		return nil, err
	}
	bi, err := buildinfo.ReadFile(binaryPath)
	if err != nil {
		return nil, fmt.Errorf("%s has no Go build information: %w", binaryPath, err)
	}
	sum := sha256.Sum256(data)
	main := moduleComponent(bi.Main.Path, bi.Main.Version, "", cdx.ComponentTypeApplication)
	main.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex.EncodeToString(sum[:])}}
	props := []cdx.Property{{Name: "go:version", Value: bi.GoVersion}, {Name: "go:path", Value: bi.Path}}
	for _, s := range bi.Settings {
		props = append(props, cdx.Property{Name: "go:build:" + s.Key, Value: s.Value})
	}
	main.Properties = &props

	var components []cdx.Component
	var refs []string
	for _, d := range bi.Deps {
		if d.Replace != nil { // what was linked is the replacement
			d = d.Replace
		}
		c := moduleComponent(d.Path, d.Version, d.Sum, cdx.ComponentTypeLibrary)
		components = append(components, c)
		refs = append(refs, c.BOMRef)
	}

	bom := cdx.NewBOM()
	// A serial number derived from the binary, not random, so the same binary gives the same SBOM.
	bom.SerialNumber = "urn:uuid:" + uuidFrom(sum[:])
	bom.Metadata = &cdx.Metadata{
		Timestamp: created.UTC().Format(time.RFC3339),
		Component: &main,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "phoneop hack/release", Description: "debug/buildinfo with github.com/CycloneDX/cyclonedx-go",
		}}},
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: main.BOMRef, Dependencies: &refs}}
	return bom, nil
}

// moduleComponent is a Go module as CycloneDX names it: a pkg:golang package URL, the
// module's version, and its go.sum hash (h1:, a hash of the module's files) as a property,
// since CycloneDX's hash list has no algorithm for it.
func moduleComponent(path, version, sum string, typ cdx.ComponentType) cdx.Component {
	purl := "pkg:golang/" + path
	if version != "" && version != "(devel)" {
		purl += "@" + version
	}
	c := cdx.Component{BOMRef: purl, Type: typ, Name: path, Version: version, PackageURL: purl}
	if sum != "" {
		c.Properties = &[]cdx.Property{{Name: "go:sum", Value: sum}}
	}
	return c
}

// WriteSBOM encodes bom as CycloneDX 1.6 JSON.
func WriteSBOM(w io.Writer, bom *cdx.BOM) error {
	return cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, cdx.SpecVersion1_6)
}

// uuidFrom formats the first 16 bytes of a hash as a version 8 (custom) UUID.
func uuidFrom(h []byte) string {
	b := make([]byte, 16)
	copy(b, h)
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
