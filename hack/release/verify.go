package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// VerifyDist checks a dist/ the way its consumers will: the signature verifies for the digest
// dist/ names, SHA256SUMS matches every file, and every krew sha256 matches its archive.
func VerifyDist(dist, pubKey string) error {
	if pubKey == "" {
		pubKey = filepath.Join(dist, PublicKeyFile)
	}
	v, err := LoadVerifier(pubKey)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dist, ImageDigest))
	if err != nil {
		return err
	}
	d, err := name.NewDigest(strings.TrimSpace(string(raw)))
	if err != nil {
		return err
	}
	s, err := readSignatureFiles(dist)
	if err != nil {
		return err
	}
	if err := VerifyDigest(v, s, d); err != nil {
		return err
	}
	if err := verifySums(dist); err != nil {
		return err
	}
	return verifyKrew(dist)
}

func verifySums(dist string) error {
	f, err := os.Open(filepath.Join(dist, ChecksumsFile))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return fmt.Errorf("%s: bad line %q", ChecksumsFile, sc.Text())
		}
		data, err := os.ReadFile(filepath.Join(dist, file))
		if err != nil {
			return err
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
			return fmt.Errorf("%s: %s does not match", ChecksumsFile, file)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s is empty", ChecksumsFile)
	}
	return sc.Err()
}

var krewEntry = regexp.MustCompile(`(?m)^\s+uri: \S*/([^/\s]+)\n\s+sha256: ([0-9a-f]{64})$`)

// verifyKrew checks each uri/sha256 pair of the krew manifest against the archive in dist.
func verifyKrew(dist string) error {
	m, err := os.ReadFile(filepath.Join(dist, KrewManifestFn))
	if err != nil {
		return err
	}
	entries := krewEntry.FindAllSubmatch(m, -1)
	if len(entries) == 0 {
		return fmt.Errorf("%s lists no archives", KrewManifestFn)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dist, string(e[1])))
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(data); !bytes.Equal([]byte(hex.EncodeToString(sum[:])), e[2]) {
			return fmt.Errorf("%s: the sha256 of %s does not match the archive", KrewManifestFn, e[1])
		}
	}
	return nil
}
