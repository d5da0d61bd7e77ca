package graphtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
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

// PFX encodes certificate and key as PKCS#12 protected by password.
func (c Certificate) PFX(t testing.TB, password string) []byte {
	t.Helper()
	pfx, err := pkcs12.Modern.Encode(c.Key, c.Cert, nil, password)
	if err != nil {
		t.Fatalf("encode PKCS#12: %v", err)
	}
	return pfx
}

// NewCertificate makes an RSA client certificate (Entra accepts RSA keys
// for client assertions; azidentity signs with RS256/PS256).
func NewCertificate(t testing.TB, commonName string) Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	return Certificate{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}
