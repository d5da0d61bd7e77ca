package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/phoneop/phoneop/internal/selfsigned"
)

// Certificate is a throwaway self-signed client certificate.
type Certificate struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	// CertPEM is the certificate alone: what an app registration holds.
	CertPEM []byte
	// KeyPEM is the PKCS#8 private key.
	KeyPEM []byte
}

// BundlePEM is certificate and key in one PEM file, as a Secret holds them.
func (c Certificate) BundlePEM() []byte {
	return append(append([]byte{}, c.CertPEM...), c.KeyPEM...)
}

// PFX encodes certificate and key as PKCS#12 protected by password, with
// modern algorithms (AES, SHA-256: OpenSSL 3's default) or legacy ones
// (3DES, SHA-1: what Windows and older tools produce).
func (c Certificate) PFX(t testing.TB, password string, modern bool) []byte {
	t.Helper()
	enc := pkcs12.LegacyDES
	if modern {
		enc = pkcs12.Modern
	}
	pfx, err := enc.Encode(c.Key, c.Cert, nil, password)
	if err != nil {
		t.Fatalf("encode PKCS#12: %v", err)
	}
	return pfx
}

// NewCertificate makes an RSA client certificate valid for a day (Entra
// accepts RSA keys for client assertions; azidentity signs with RS256/PS256).
func NewCertificate(t testing.TB, commonName string) Certificate {
	t.Helper()
	c, err := selfsigned.Client(commonName, 24*time.Hour)
	if err != nil {
		t.Fatalf("self-signed certificate: %v", err)
	}
	return Certificate{Cert: c.Cert, Key: c.Key.(*rsa.PrivateKey), CertPEM: c.CertPEM, KeyPEM: c.KeyPEM}
}

// FederatedToken is a client assertion signed with the certificate's key,
// shaped like the token a workload-identity webhook projects into a pod:
// RS256, issuer and subject the client id, audience the tenant's token
// endpoint. Written to a file, it lets a workload-identity credential
// authenticate against the emulator.
func (c Certificate) FederatedToken(t testing.TB, clientID, audience string, validFor time.Duration) string {
	t.Helper()
	sum := sha1.Sum(c.Cert.Raw) //nolint:gosec // x5t is SHA-1 by definition (RFC 7515)
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(sum[:])})
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(validFor).Unix(),
	})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.Key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatalf("sign assertion: %v", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
