package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

func TestServer(t *testing.T) {
	c, err := Server("test server", time.Hour, net.IPv4(10, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CertPEM) {
		t.Fatal("CertPEM is not a PEM certificate")
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "10.0.0.1"} {
		if _, err := c.Cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("not valid for %s: %v", host, err)
		}
	}
	if _, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM); err != nil {
		t.Errorf("certificate and key do not load as a pair: %v", err)
	}
}

func TestClient(t *testing.T) {
	a, err := Client("test client", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Client("test client", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a.Cert.SerialNumber.Cmp(b.Cert.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
	if got := a.Cert.ExtKeyUsage; len(got) != 1 || got[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("ExtKeyUsage = %v, want client auth only", got)
	}
	if _, err := tls.X509KeyPair(a.CertPEM, a.KeyPEM); err != nil {
		t.Errorf("certificate and key do not load as a pair: %v", err)
	}
}
