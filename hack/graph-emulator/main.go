// Command graph-emulator serves the phoneop Microsoft Graph emulator
// (login authority + Graph phone methods) on loopback, for demos, CI and
// manual testing with curl. See docs/emulator.md.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/phoneop/phoneop/internal/graph/emulator"
)

// config is everything the flags set.
type config struct {
	addr, seedFile, certFile, keyFile, certOut string
	plainHTTP, admin, noThrottle, quiet        bool
	opts                                       emulator.Options
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:8443", "listen address (keep it on loopback)")
	flag.StringVar(&c.seedFile, "seed-file", "", "JSON or YAML seed: tenants, apps, users, SMS policy, phone methods")
	flag.StringVar(&c.certFile, "tls-cert", "", "serve with this PEM certificate (with -tls-key) instead of a generated one")
	flag.StringVar(&c.keyFile, "tls-key", "", "PEM private key for -tls-cert")
	flag.StringVar(&c.certOut, "cert-out", "graph-emulator.crt", "where to write the generated self-signed certificate (trust it with curl --cacert)")
	flag.BoolVar(&c.plainHTTP, "plain-http", false, "serve plain http (azidentity refuses it; curl only)")
	flag.BoolVar(&c.admin, "admin", false, "serve the admin API under /_emulator/")
	flag.BoolVar(&c.quiet, "quiet", false, "do not log requests")
	flag.Int64Var(&c.opts.Seed, "seed", 1, "seed for deterministic fault injection")
	flag.DurationVar(&c.opts.Faults.Latency, "latency", 0, "latency added to every Graph request")
	flag.DurationVar(&c.opts.Faults.Jitter, "jitter", 0, "uniform extra latency in [0, jitter)")
	flag.Float64Var(&c.opts.Faults.Rate429, "rate-429", 0, "fraction of Graph requests answered 429 with Retry-After")
	flag.Float64Var(&c.opts.Faults.Rate5xx, "rate-5xx", 0, "fraction answered 503 (with Retry-After) or 504")
	flag.Float64Var(&c.opts.Faults.RateDrop, "rate-drop", 0, "fraction whose connection is closed before processing")
	flag.Float64Var(&c.opts.Faults.RateLostResponse, "rate-lost-response", 0, "fraction of writes saved but whose response is lost")
	flag.IntVar(&c.opts.Faults.RetryAfterSeconds, "retry-after", 1, "Retry-After seconds on injected 429/503")
	flag.Float64Var(&c.opts.ThrottleScale, "throttle-scale", 1, "multiplies the documented throttling limits (bucket size and refill)")
	flag.BoolVar(&c.noThrottle, "no-throttle", false, "disable the documented throttling")
	flag.DurationVar(&c.opts.TokenTTL, "token-ttl", time.Hour, "access token lifetime")
	flag.DurationVar(&c.opts.ReplicationDelay, "replication-delay", 0, "new users answer 404 for this long")
	flag.Parse()
	c.opts.EnableAdmin = c.admin
	c.opts.DisableThrottling = c.noThrottle
	return c
}

func main() {
	c := parseFlags()
	if !c.quiet {
		c.opts.Log = logRequest
	}
	e := emulator.New(c.opts)
	if c.seedFile != "" {
		if err := loadSeedFile(e, c.seedFile); err != nil {
			log.Fatalf("seed: %v", err)
		}
	}
	if err := serve(c, e); err != nil {
		log.Fatal(err)
	}
}

// logRequest prints one line per request: route templates only, so no
// user or phone number ever reaches the log.
func logRequest(r emulator.RequestLog) {
	fault := ""
	if r.Fault != "" {
		fault = " fault=" + r.Fault
	}
	log.Printf("%s %s -> %d%s in %s request-id=%s", r.Method, r.Route, r.Status, fault,
		r.Duration.Round(time.Microsecond), r.RequestID)
}

// loadSeedFile reads a JSON or YAML seed. Apps may name a PEM file with
// "certificateFile" (relative to the seed file) instead of inlining
// "certificatePem".
func loadSeedFile(e *emulator.Emulator, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	var s emulator.Seed
	var files struct {
		Apps []struct {
			CertificateFile string `json:"certificateFile"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(js, &s); err != nil {
		return err
	}
	if err := json.Unmarshal(js, &files); err != nil {
		return err
	}
	for i, a := range files.Apps {
		if a.CertificateFile == "" {
			continue
		}
		p := a.CertificateFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		pemBytes, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.Apps[i].CertificatePEM = string(pemBytes)
	}
	return e.LoadSeed(s)
}

// serve listens until SIGINT/SIGTERM.
func serve(c config, e *emulator.Emulator) error {
	srv := &http.Server{Addr: c.addr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if !c.plainHTTP {
		scheme = "https"
		cfg, err := tlsConfig(c, ln.Addr())
		if err != nil {
			return err
		}
		srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	log.Printf("graph-emulator listening on %s://%s (admin API: %v)", scheme, ln.Addr(), c.admin)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// tlsConfig loads the given certificate, or generates a self-signed one
// for localhost and the listen address and writes it to -cert-out.
func tlsConfig(c config, addr net.Addr) (*tls.Config, error) {
	if c.certFile != "" {
		cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	cert, certPEM, err := selfSigned(addr)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.certOut, certPEM, 0o644); err != nil {
		return nil, err
	}
	log.Printf("self-signed certificate written to %s", c.certOut)
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSigned makes an ECDSA certificate valid for localhost, 127.0.0.1,
// ::1 and the listen IP. It is its own CA so clients can trust it directly.
func selfSigned(addr net.Addr) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
		ips = append(ips, ta.IP)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "phoneop graph emulator"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

func init() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: graph-emulator [flags]\n\n"+
			"Serves Microsoft Graph's phone-method API and a client-credentials token endpoint.\n"+
			"See docs/emulator.md for the seed format and the admin API.\n\n")
		flag.PrintDefaults()
	}
}
