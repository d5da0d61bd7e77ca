package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Cosign's conventions for a signature stored in a registry: the simple-signing payload is the
// layer, the signature rides in an annotation on it, and the manifest is tagged after the
// signed digest (sha256-<hex>.sig) in the image's repository.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	SignatureAnnotation    = "dev.cosignproject.cosign/signature"
)

// Signature is what `cosign sign --key` produces for one image digest.
type Signature struct {
	Payload []byte // cosign's simple-signing JSON, naming the image and its digest
	Sig     []byte // the raw (DER) signature over Payload
}

// SignDigest signs image (repository@sha256:...) the way cosign does with a key: it signs
// the simple-signing payload whose critical.image names the digest, so verifying the payload
// pins the exact index every platform pulls through.
func SignDigest(signer signature.Signer, image name.Digest) (Signature, error) {
	p, err := json.Marshal(payload.Cosign{Image: image})
	if err != nil {
		return Signature{}, err
	}
	sig, err := signer.SignMessage(bytes.NewReader(p))
	if err != nil {
		return Signature{}, err
	}
	return Signature{Payload: p, Sig: sig}, nil
}

// VerifyDigest is `cosign verify --key`'s check for one signature: the signature is over the
// payload, and the payload names the digest the caller is about to trust. Either failing is an
// error; a valid signature for another digest is not accepted.
func VerifyDigest(verifier signature.Verifier, s Signature, want name.Digest) error {
	if err := verifier.VerifySignature(bytes.NewReader(s.Sig), bytes.NewReader(s.Payload)); err != nil {
		return fmt.Errorf("the signature does not verify against the key: %w", err)
	}
	var got payload.Cosign
	if err := json.Unmarshal(s.Payload, &got); err != nil {
		return fmt.Errorf("the signed payload is not cosign's simple signing: %w", err)
	}
	if got.Image.DigestStr() != want.DigestStr() {
		return fmt.Errorf("the signature is for %s, not %s", got.Image.DigestStr(), want.DigestStr())
	}
	return nil
}

// LoadSigner reads a PEM private key: cosign's own (`cosign generate-key-pair`, decrypted with
// COSIGN_PASSWORD) or a plain PKCS#8/EC key.
func LoadSigner(path string) (signature.SignerVerifier, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pass := func(bool) ([]byte, error) { return []byte(os.Getenv("COSIGN_PASSWORD")), nil }
	key, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return signature.LoadSignerVerifier(key, crypto.SHA256)
}

// LoadVerifier reads a PEM public key (cosign.pub).
func LoadVerifier(path string) (signature.Verifier, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
}

// GenerateKey writes a throw-away ECDSA P-256 key pair (the curve cosign generates) as PEM:
// for tests, and for a local `make release` without SIGNING_KEY, which must say it is not
// the project's key.
func GenerateKey(privPath, pubPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	privPEM, err := cryptoutils.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(key.Public())
	if err != nil {
		return err
	}
	if err := os.WriteFile(privPath, privPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(pubPath, pubPEM, 0o644)
}

func writePublicKey(s signature.SignerVerifier, path string) error {
	pub, err := s.PublicKey()
	if err != nil {
		return err
	}
	pemBytes, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pemBytes, 0o644)
}
