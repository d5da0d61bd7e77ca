// Command graph-emulator serves the phoneop Microsoft Graph emulator
// (login authority + Graph phone methods) on loopback, for demos, CI and
// manual testing with curl. See docs/emulator.md.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/selfsigned"
)

// config is everything the flags set.
type config struct {
	addr, seedFile, certFile, keyFile, certOut string
	issuerCA                                   string
	plainHTTP, admin, noThrottle, quiet        bool
	opts                                       graphemu.Options
}

func parseFlags() config {
	var c config
	fs := newFlagSet(&c, flag.CommandLine)
	_ = fs.Parse(os.Args[1:]) // flag.ExitOnError: exits on a bad flag
	return c
}

// newFlagSet defines every flag on fs, writing into c; it fills in the
// options that follow from other flags after fs is parsed.
func newFlagSet(c *config, fs *flag.FlagSet) *parsedFlags {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8443", "listen address (keep it on loopback)")
	fs.StringVar(&c.seedFile, "seed-file", "", "JSON or YAML seed: tenants, apps, users, SMS policy, phone methods")
	fs.StringVar(&c.certFile, "tls-cert", "", "serve with this PEM certificate (with -tls-key) instead of a generated one")
	fs.StringVar(&c.keyFile, "tls-key", "", "PEM private key for -tls-cert")
	fs.StringVar(&c.certOut, "cert-out", "graph-emulator.crt", "where to write the generated self-signed certificate (trust it with curl --cacert)")
	fs.StringVar(&c.issuerCA, "issuer-ca", "", "PEM CA bundle to trust when fetching a federated credential issuer's OIDC discovery and keys (e.g. a cluster's ca.crt); default: the system roots")
	fs.BoolVar(&c.plainHTTP, "plain-http", false, "serve plain http (azidentity refuses it; curl only)")
	fs.BoolVar(&c.admin, "admin", false, "serve the admin API under /_emulator/")
	fs.BoolVar(&c.quiet, "quiet", false, "do not log requests")
	fs.Int64Var(&c.opts.Seed, "seed", 1, "seed for deterministic fault injection (classic faults and quirks)")
	f := &c.opts.Faults
	fs.DurationVar(&f.Latency, "latency", 0, "latency added to every Graph request")
	fs.DurationVar(&f.Jitter, "jitter", 0, "uniform extra latency in [0, jitter)")
	fs.Float64Var(&f.Rate429, "rate-429", 0, "fraction of Graph requests answered 429 with Retry-After")
	fs.Float64Var(&f.Rate5xx, "rate-5xx", 0, "fraction answered 503 (with Retry-After) or 504")
	fs.Float64Var(&f.RateDrop, "rate-drop", 0, "fraction whose connection is closed before processing")
	fs.Float64Var(&f.RateLostResponse, "rate-lost-response", 0, "fraction of writes saved but whose response is lost")
	fs.IntVar(&f.RetryAfterSeconds, "retry-after", 1, "Retry-After seconds on injected 429/503")
	defineQuirkFlags(fs, f)
	fs.Float64Var(&c.opts.ThrottleScale, "throttle-scale", 1, "multiplies the documented throttling limits (bucket size and refill)")
	fs.BoolVar(&c.noThrottle, "no-throttle", false, "disable the documented throttling")
	fs.DurationVar(&c.opts.TokenTTL, "token-ttl", time.Hour, "access token lifetime")
	fs.DurationVar(&c.opts.ReplicationDelay, "replication-delay", 0, "new users answer 404 for this long")
	defineRetirementFlags(fs, &c.opts.SMSSignInRetirement)
	fs.DurationVar(&c.opts.AuditLag, "audit-lag", 2*time.Minute, "an audit log entry becomes readable this long after the change it records (Entra: 2 minutes at the 95th percentile); 0 delivers at once")
	return &parsedFlags{fs: fs, c: c}
}

// defineQuirkFlags has one flag per production quirk (Faults fields after
// RetryAfterSeconds; docs/emulator.md, "Production quirks"). All are off
// by default.
func defineQuirkFlags(fs *flag.FlagSet, f *graphemu.Faults) {
	fs.Func("number-format", "store numbers written through Graph as nospace (+491701234567), trunk (national trunk 0 toggled: +49 01701234567) or spaced (+49 170 123-4567); default: the documented +49 1701234567",
		func(s string) error {
			nf, err := graphemu.ParseNumberFormat(s)
			f.NumberFormat = nf
			return err
		})
	fs.DurationVar(&f.ReadLag, "read-lag", 0, "for this long after a Graph write, list/get of that user answer the state before it")
	fs.BoolVar(&f.MaskNumbers, "mask-numbers", false, "mask every number on Graph reads (+1 ********34)")
	fs.Func("mask-users", "mask numbers on Graph reads of these users only (comma-separated object ids or UPNs)",
		func(s string) error {
			for _, u := range strings.Split(s, ",") {
				if u = strings.TrimSpace(u); u != "" {
					f.MaskUsers = append(f.MaskUsers, u)
				}
			}
			return nil
		})
	fs.Float64Var(&f.RateNotUniqueUnsaved, "rate-not-unique-unsaved", 0, "fraction of mobile/alternateMobile writes answered 409 phoneNumberNotUnique without saving")
	fs.BoolVar(&f.ShuffleLists, "shuffle-lists", false, "answer each list of phone methods in a random order")
	fs.BoolVar(&f.ExtraProperties, "extra-properties", false, "add @odata.type to list items and beta's createdDateTime/lastUsedDateTime to methods")
	fs.Float64Var(&f.RateUnknownError, "rate-unknown-error", 0, "fraction of phone-method calls answered 404 UnknownError with backend JSON and URLs in the message")
}

// defineRetirementFlags sets when and how SMS sign-in retires (docs/emulator.md, "SMS sign-in
// retirement"); by default it never does.
func defineRetirementFlags(fs *flag.FlagSet, r *graphemu.SMSSignInRetirement) {
	fs.Func("sms-sign-in-retired-at", "retire SMS sign-in from this instant: a date (2027-02-01, midnight UTC), an RFC 3339 instant, or \"now\"; default: never",
		func(s string) error {
			at, err := parseInstant(s)
			r.At = at
			return err
		})
	fs.Func("sms-sign-in-retirement-shape", "how Graph answers once SMS sign-in is retired: enableRefused (enableSmsSignIn answers 400; the default) or notAllowedByPolicy (every mobile reads notAllowedByPolicy)",
		func(s string) error {
			shape, err := graphemu.ParseRetirementShape(s)
			r.Shape = shape
			return err
		})
}

// parseInstant reads "now", a date (midnight UTC) or an RFC 3339 instant.
func parseInstant(s string) (time.Time, error) {
	if s == "now" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither now, a date (2027-02-01) nor an RFC 3339 instant", s)
	}
	return t, nil
}

// parsedFlags finishes the config once the flags are parsed.
type parsedFlags struct {
	fs *flag.FlagSet
	c  *config
}

// Parse parses args and derives the options that follow from flags.
func (p *parsedFlags) Parse(args []string) error {
	if err := p.fs.Parse(args); err != nil {
		return err
	}
	p.c.opts.EnableAdmin = p.c.admin
	p.c.opts.DisableThrottling = p.c.noThrottle
	if p.c.issuerCA != "" {
		client, err := issuerClient(p.c.issuerCA)
		if err != nil {
			return err
		}
		p.c.opts.IssuerClient = client
	}
	return nil
}

// issuerClient trusts the PEM bundle at path for federated credential issuers (a Kubernetes
// API server serving its service-account issuer's discovery with its own CA).
func issuerClient(path string) (*http.Client, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-issuer-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("-issuer-ca: no PEM certificate in %s", path)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

func main() {
	c := parseFlags()
	if !c.quiet {
		c.opts.Log = logRequest
	}
	e := graphemu.New(c.opts)
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
func logRequest(r graphemu.RequestLog) {
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
func loadSeedFile(e *graphemu.Emulator, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	var s graphemu.Seed
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
func serve(c config, e *graphemu.Emulator) error {
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
	log.Printf("graph-emulator listening on %s://%s (admin API: %v; SMS sign-in retired: %s)", scheme, ln.Addr(), c.admin, c.opts.SMSSignInRetirement)
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

// selfSigned makes the emulator's certificate, valid for localhost,
// 127.0.0.1, ::1 and the listen IP, for a year. It is its own CA so clients
// can trust it directly.
func selfSigned(addr net.Addr) (tls.Certificate, []byte, error) {
	var ips []net.IP
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
		ips = append(ips, ta.IP)
	}
	c, err := selfsigned.Server("phoneop graph emulator", 365*24*time.Hour, ips...)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return c.TLS(), c.CertPEM, nil
}

func init() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: graph-emulator [flags]\n\n"+
			"Serves Microsoft Graph's phone-method API and a client-credentials token endpoint.\n"+
			"See docs/emulator.md for the seed format and the admin API.\n\n")
		flag.PrintDefaults()
	}
}
