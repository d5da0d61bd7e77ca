// Package selfsigned makes throwaway self-signed certificates: the serving
// certificate of the Graph emulator (hack/graph-emulator, the test harness)
// and the client certificates that authenticate app registrations against it
// in tests. Nothing here is meant for production trust.
package selfsigned

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// Cert is a self-signed certificate and its private key.
type Cert struct {
	Cert *x509.Certificate
	// Key is an *ecdsa.PrivateKey (Server) or an *rsa.PrivateKey (Client).
	Key crypto.Signer
	// CertPEM is the certificate alone: what a client trusts, or what an app
	// registration holds.
	CertPEM []byte
	// KeyPEM is the PKCS#8 private key.
	KeyPEM []byte
}

// TLS is c as a tls.Config certificate.
func (c Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
}

// Server makes an ECDSA P-256 serving certificate valid for localhost,
// 127.0.0.1, ::1 and ips, from an hour ago for validFor. It is its own CA, so
// a client can trust it directly.
func Server(commonName string, validFor time.Duration, ips ...net.IP) (Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: commonName},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, ips...),
	}
	return create(tmpl, key, validFor)
}

// Client makes an RSA 2048 client certificate, from an hour ago for
// validFor: Entra accepts RSA keys for client assertions, and azidentity
// signs them with RS256/PS256.
func Client(commonName string, validFor time.Duration) (Cert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Cert{}, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return create(tmpl, key, validFor)
}

// create signs tmpl with its own key. The serial is random, so certificates
// made in the same instant still differ.
func create(tmpl *x509.Certificate, key crypto.Signer, validFor time.Duration) (Cert, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return Cert{}, err
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-time.Hour) // tolerate a clock a little behind
	tmpl.NotAfter = now.Add(validFor)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return Cert{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Cert{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Cert{}, err
	}
	return Cert{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}
