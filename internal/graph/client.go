package graph

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// Version is the operator version sent in the User-Agent; the build sets it
// with -ldflags "-X github.com/phoneop/phoneop/internal/graph.Version=...".
var Version = "dev"

// Limits bound how hard a tenant's clients push Graph. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// RequestsPerSecond and Burst cap the tenant's bucket for all requests.
	// The bucket starts as Graph's documented one for the smallest tenants
	// (3,500 resource units per 10 s: a full bucket of 3,500 refilled at
	// 350/s) and its rate then follows Graph's answers (adaptive.go): slower
	// on 429s and near-limit usage headers, faster while answers are clean,
	// never above RequestsPerSecond. Larger tenants get 500/s and 800/s.
	RequestsPerSecond float64
	Burst             int
	// WritesPerSecond and WriteBurst cap the extra bucket for writes (POST,
	// PATCH, DELETE), which starts as Graph's documented one: 3,000 writes
	// per 150 s per app and tenant (a full bucket of 3,000 refilled at 20/s).
	WritesPerSecond float64
	WriteBurst      int
	// Share is the fraction of Graph's documented buckets (rates and sizes) a tenant's limiter
	// starts from: 1/N when N processes (shards) share each tenant, so that together they start
	// at Graph's documented budget. Zero means 1.
	Share float64
	// MaxRetries is how many times a call is retried after its first
	// attempt. Negative means no retries.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the jittered exponential backoff
	// between retries that have no Retry-After.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxPause clamps a Retry-After, so a bogus header cannot stall a
	// tenant for hours.
	MaxPause time.Duration
	// MaxWait is the longest a call blocks in a tenant pause or for a token;
	// a longer wait returns a Throttled error at once (IsClientThrottled for
	// our own buckets), so the worker can requeue instead of being held.
	MaxWait time.Duration
	// RequestTimeout bounds one HTTP attempt. It must stay under the
	// service's own 60 s, so that we, not the service, decide when to give up.
	RequestTimeout time.Duration
}

// DefaultLimits are the limits used for zero fields. The rates and bursts
// are upper caps: each tenant starts at Graph's documented buckets, full, as
// Graph's start (so an onboarding spends the initial bucket at once instead
// of trickling), and adapts from there. The caps leave room above the
// documented rates because the phone-method backend's limits are not
// documented and may be higher (the largest directory tier allows 800 RU/s);
// probing costs a 429 now and then, each of which pauses the whole tenant.
var DefaultLimits = Limits{
	RequestsPerSecond: 800,
	Burst:             documentedRequestBucket,
	WritesPerSecond:   2 * documentedWriteRate,
	WriteBurst:        documentedWriteBucket,
	MaxRetries:        4,
	MinBackoff:        500 * time.Millisecond,
	MaxBackoff:        30 * time.Second,
	MaxPause:          5 * time.Minute,
	MaxWait:           2 * time.Second,
	RequestTimeout:    30 * time.Second,
}

// maxRequestTimeout is the service-side timeout of the auth-methods API.
const maxRequestTimeout = 60 * time.Second

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setF(&l.RequestsPerSecond, d.RequestsPerSecond)
	setI(&l.Burst, d.Burst)
	setF(&l.WritesPerSecond, d.WritesPerSecond)
	setI(&l.WriteBurst, d.WriteBurst)
	setI(&l.MaxRetries, d.MaxRetries)
	if l.MaxRetries < 0 {
		l.MaxRetries = 0
	}
	setD(&l.MinBackoff, d.MinBackoff)
	setD(&l.MaxBackoff, d.MaxBackoff)
	setD(&l.MaxPause, d.MaxPause)
	setD(&l.MaxWait, d.MaxWait)
	setD(&l.RequestTimeout, d.RequestTimeout)
	return l
}

// validate rejects limits that would break the contract.
func (l Limits) validate() error {
	switch {
	case l.RequestTimeout >= maxRequestTimeout:
		return fmt.Errorf("request timeout %s must be under the service's %s", l.RequestTimeout, maxRequestTimeout)
	case l.RequestsPerSecond < 0 || l.WritesPerSecond < 0 || l.Burst < 0 || l.WriteBurst < 0:
		return errors.New("rate limits must not be negative")
	case l.MinBackoff > l.MaxBackoff:
		return fmt.Errorf("min backoff %s exceeds max backoff %s", l.MinBackoff, l.MaxBackoff)
	}
	return nil
}

// Config describes one tenant's client.
type Config struct {
	// TenantID is the Entra tenant id; it also keys the shared throttling
	// state.
	TenantID string
	// Cloud selects the Graph root and whether SMS sign-in can be managed.
	Cloud Cloud
	// Endpoints overrides the cloud's endpoints; required for CloudCustom.
	// Only GraphRoot is used by the Client (the authority belongs to the
	// credential).
	Endpoints Endpoints
	// Credential issues the app-only tokens (see NewCredential).
	Credential azcore.TokenCredential
	// HTTPClient carries the Graph requests; nil means a client with
	// http.DefaultTransport's settings and more idle connections per host
	// (defaultTransport). Tests pass the emulator server's client.
	HTTPClient *http.Client
	// Limits bound the request rate and retries; zero fields take defaults.
	Limits Limits
	// UserAgent overrides "phoneop/<Version>".
	UserAgent string
	// Throttles is the registry of per-tenant throttling state; nil means
	// DefaultThrottles. Tests pass their own to stay independent.
	Throttles *Throttles
}

// Client calls the phone-method endpoints of Microsoft Graph for one tenant.
// It is safe for concurrent use; all Clients of a tenant built from the same
// Throttles share one pause and one token bucket.
type Client struct {
	tenantID  string
	cloud     Cloud
	baseURL   string // GraphRoot + "/v1.0"
	scope     string
	cred      azcore.TokenCredential
	http      *http.Client
	limits    Limits
	userAgent string
	throttle  *tenantThrottle
	clock     Clock
}

// NewClient checks cfg and returns a client for its tenant.
func NewClient(cfg Config) (*Client, error) {
	if cfg.TenantID == "" {
		return nil, errors.New("graph: tenant id is required")
	}
	if cfg.Credential == nil {
		return nil, errors.New("graph: credential is required")
	}
	ep, err := resolveEndpoints(cfg)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	limits := cfg.Limits.withDefaults()
	if err := limits.validate(); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	throttles := cfg.Throttles
	if throttles == nil {
		throttles = DefaultThrottles
	}
	return &Client{
		tenantID:  cfg.TenantID,
		cloud:     cloudOrGlobal(cfg.Cloud),
		baseURL:   ep.GraphRoot + "/v1.0",
		scope:     ep.Scope(),
		cred:      cfg.Credential,
		http:      httpClientOrDefault(cfg.HTTPClient),
		limits:    limits,
		userAgent: userAgentOrDefault(cfg.UserAgent),
		throttle:  throttles.forTenant(cfg.TenantID, limits),
		clock:     throttles.clock,
	}, nil
}

// resolveEndpoints prefers explicit endpoints (validated like custom ones)
// and otherwise maps the cloud.
func resolveEndpoints(cfg Config) (Endpoints, error) {
	if cfg.Endpoints.GraphRoot != "" {
		root, err := httpsBase("graph root", cfg.Endpoints.GraphRoot)
		return Endpoints{AuthorityHost: cfg.Endpoints.AuthorityHost, GraphRoot: root}, err
	}
	return EndpointsFor(cfg.Cloud, "", "")
}

func cloudOrGlobal(c Cloud) Cloud {
	if c == "" {
		return CloudGlobal
	}
	return c
}

func httpClientOrDefault(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{Transport: defaultTransport}
	}
	return c
}

// maxIdleConnsPerHost keeps a connection for each request a tenant's workers have in flight:
// http.DefaultTransport keeps only 2 idle per host, so over HTTP/1.1 (a proxy, or a server
// that does not offer h2) 16 workers would close and re-open TLS connections to Graph all
// the time — a handshake per request, measured as a sixth of the manager's CPU in an
// onboarding burst against the emulator.
const maxIdleConnsPerHost = 64

// defaultTransport is http.DefaultTransport (proxy from the environment, HTTP/2 when offered,
// its timeouts) with room for that many idle connections; one for every tenant, since they
// all talk to the same Graph host.
var defaultTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.MaxIdleConns = 4 * maxIdleConnsPerHost
	return t
}()

func userAgentOrDefault(ua string) string {
	if ua == "" {
		return "phoneop/" + Version
	}
	return ua
}
