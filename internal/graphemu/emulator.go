// Package graphemu is an in-process Microsoft Graph look-alike for everything
// phoneop touches: the Entra ID client-credentials token endpoint (with the
// discovery documents azidentity reads), user lookup, and the seven
// phone-authentication-method operations, with the rules, error envelope,
// throttling and permissions described in shared/graph-phone-methods.md.
//
// One *Emulator serves both the login authority and Graph, so a test needs a
// single httptest.NewTLSServer(e). Graph requests are bound to a tenant by the
// bearer token, exactly as in real Graph. The emulator is safe for concurrent
// use.
package graphemu

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Phone types.
const (
	Mobile          = "mobile"
	AlternateMobile = "alternateMobile"
	Office          = "office"
)

// smsSignInState values as Graph reports them.
const (
	SMSNotSupported         = "notSupported"
	SMSNotAllowedByPolicy   = "notAllowedByPolicy"
	SMSNotEnabled           = "notEnabled"
	SMSPhoneNumberNotUnique = "phoneNumberNotUnique"
	SMSReady                = "ready"
	SMSNotConfigured        = "notConfigured"
)

// Permissions (application roles) the emulator understands.
const (
	PermAuthMethodReadWriteAll  = "UserAuthenticationMethod.ReadWrite.All"
	PermAuthMethodReadAll       = "UserAuthenticationMethod.Read.All"
	PermPhoneMethodReadWriteAll = "UserAuthMethod-Phone.ReadWrite.All"
	PermPhoneMethodReadAll      = "UserAuthMethod-Phone.Read.All"
	PermUserReadAll             = "User.Read.All"
)

// Options configures an Emulator. The zero value is a faithful Graph with the
// documented throttling limits and no faults.
type Options struct {
	// Seed makes fault injection deterministic: the same seed and the same
	// sequence of requests give the same faults.
	Seed int64
	// ThrottleScale multiplies the documented limits: bucket size and refill
	// rate together, so windows keep their documented length (10 s for
	// resource units, 150 s for app writes, 5 min for tenant writes).
	// 0.01 gives a 35-RU bucket refilling 3.5 RU/s. 0 means 1.
	ThrottleScale float64
	// DisableThrottling turns the documented throttling off entirely.
	DisableThrottling bool
	// Faults are injected into Graph requests (never into token, discovery
	// or admin requests). Change them later with SetFaults.
	Faults Faults
	// TokenTTL is the lifetime of issued access tokens; 0 means 1 h.
	TokenTTL time.Duration
	// EnableAdmin serves the admin API under /_emulator/.
	EnableAdmin bool
	// ReplicationDelay makes a user answer 404 for this long after it was
	// added, like Entra's eventually consistent directory. 0 disables.
	ReplicationDelay time.Duration
	// AuditLag is how long an audit log entry takes to become readable after the change it
	// records (Entra: 2 minutes at the 95th percentile, 5 at the 99th); 0 delivers at once.
	// hack/graph-emulator's -audit-lag defaults to 2 minutes.
	AuditLag time.Duration
	// SMSSignInRetirement retires SMS sign-in from an instant, in one of two shapes
	// (retirement.go); the zero value never does. Change it later with
	// SetSMSSignInRetirement or the admin API; hack/graph-emulator's -sms-sign-in-retired-at
	// and -sms-sign-in-retirement-shape set it.
	SMSSignInRetirement SMSSignInRetirement
	// IssuerClient fetches a federated credential issuer's OIDC discovery document and keys
	// (federated.go); nil means http.DefaultClient. Give it the issuer's CA.
	IssuerClient *http.Client
	// Now is the clock (token expiry, throttling, replication delay,
	// dates in responses); nil means time.Now.
	Now func() time.Time
	// Log, when set, is called once per request after it is answered.
	// RequestLog never carries phone numbers.
	Log func(RequestLog)
}

// Faults describes injected failures and the production quirks the
// emulator can reproduce (all off in the zero value). Rates are
// probabilities in [0,1]. The classic faults (latency to RetryAfterSeconds)
// are drawn per Graph request from a generator seeded with Options.Seed;
// the quirks from a second one with the same seed, so turning a quirk on
// never changes which requests get a classic fault.
type Faults struct {
	Latency time.Duration `json:"latency,omitempty"` // added to every Graph request
	Jitter  time.Duration `json:"jitter,omitempty"`  // uniform extra latency in [0,Jitter)
	// Rate429 answers 429 TooManyRequests with Retry-After.
	Rate429 float64 `json:"rate429,omitempty"`
	// Rate5xx answers 503 serviceNotAvailable (with Retry-After) or 504
	// gatewayTimeout, half each.
	Rate5xx float64 `json:"rate5xx,omitempty"`
	// RateDrop closes the connection before the request is processed:
	// nothing is saved and no response is sent.
	RateDrop float64 `json:"rateDrop,omitempty"`
	// RateLostResponse applies to writes only: the write is saved, then
	// the connection is closed instead of answering.
	RateLostResponse float64 `json:"rateLostResponse,omitempty"`
	// RetryAfter is the Retry-After (seconds) on injected 429/503; 0 means 1.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`

	// The quirks below reproduce what graph-phone-methods.md ("Observed in
	// production") reports of Graph beyond its docs.

	// NumberFormat stores numbers written through Graph (create, update)
	// in another form than the documented one; out-of-band numbers are
	// kept as set.
	NumberFormat NumberFormat `json:"numberFormat,omitempty"`
	// ReadLag: for this long after a Graph write changed a user's phone
	// methods, Graph's list and get of that user answer the state just
	// before that write. An out-of-band edit of the user ends the lag.
	ReadLag time.Duration `json:"readLag,omitempty"`
	// MaskNumbers masks the numbers of every user on Graph reads
	// ("+1 ********34"), as a caller without full read rights sees them.
	MaskNumbers bool `json:"maskNumbers,omitempty"`
	// MaskUsers masks numbers on Graph reads of these users only (object
	// ids or UPNs, case-insensitive).
	MaskUsers []string `json:"maskUsers,omitempty"`
	// RateNotUniqueUnsaved answers this fraction of mobile and
	// alternateMobile writes that would succeed (a create, or an update
	// that changes the number) with 409 phoneNumberNotUnique, saving
	// nothing, as when the number's holder is a soft-deleted user.
	RateNotUniqueUnsaved float64 `json:"rateNotUniqueUnsaved,omitempty"`
	// ShuffleLists answers each list of phone methods in a random order.
	ShuffleLists bool `json:"shuffleLists,omitempty"`
	// ExtraProperties adds "@odata.type" to list items, and beta's
	// "createdDateTime" and "lastUsedDateTime" (null) to every method read
	// or created.
	ExtraProperties bool `json:"extraProperties,omitempty"`
	// RateUnknownError answers this fraction of phone-method calls (any
	// verb, $batch parts included; the user must exist) with 404
	// UnknownError whose message is backend JSON naming an internal URL.
	// Nothing is saved.
	RateUnknownError float64 `json:"rateUnknownError,omitempty"`
}

// RequestLog describes one answered request, for logging. It deliberately
// holds the route template, not the path, so no user or number leaks.
type RequestLog struct {
	Method    string
	Route     string
	Status    int // 0 when the connection was dropped
	Fault     string
	RequestID string
	Duration  time.Duration
	// Priority is the request's x-ms-throttle-priority header as sent ("" when none).
	Priority string
}

// SMSPolicy is the part of a tenant's authentication-methods policy that
// decides who may use SMS sign-in.
type SMSPolicy struct {
	AllUsers bool `json:"allUsers,omitempty"`
	// IncludedUsers are object ids or UPNs (case-insensitive).
	IncludedUsers []string `json:"includedUsers,omitempty"`
	// ExcludedUsers win over AllUsers and IncludedUsers.
	ExcludedUsers []string `json:"excludedUsers,omitempty"`
}

// Tenant is an Entra tenant.
type Tenant struct {
	ID        string    `json:"id"`
	SMSSignIn SMSPolicy `json:"smsSignIn"`
}

// App is an app registration with a client secret and/or certificate and
// the application permissions an admin consented to.
type App struct {
	TenantID     string `json:"tenantId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// CertificatePEM holds one or more PEM certificates whose public keys
	// verify client assertions.
	CertificatePEM []byte   `json:"-"`
	Permissions    []string `json:"permissions"`
	// FederatedCredentials are the app's federated identity credentials (workload identity
	// federation, federated.go): an app may have these and no secret or certificate.
	FederatedCredentials []FederatedCredential `json:"federatedIdentityCredentials,omitempty"`
}

// User is a directory user.
type User struct {
	TenantID          string `json:"tenantId"`
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	// UserType is "Member" (the default when empty) or "Guest".
	UserType string `json:"userType,omitempty"`
	// DefaultMethod is the user's default sign-in (MFA) method: a phone type ("mobile",
	// "alternateMobile", "office") or another method's kind ("microsoftAuthenticator", "fido2",
	// …). Empty follows the rule of defaultmethod.go. Graph refuses to delete a default phone
	// while the user has other methods.
	DefaultMethod string `json:"defaultMethod,omitempty"`
}

// PhoneMethod is microsoft.graph.phoneAuthenticationMethod.
type PhoneMethod struct {
	ID             string `json:"id"`
	PhoneNumber    string `json:"phoneNumber"`
	PhoneType      string `json:"phoneType"`
	SMSSignInState string `json:"smsSignInState"`
}

// Stat counts answered calls with one (method, route template, status,
// fault) combination. Fault is "" for normal answers (throttling included),
// "429"/"5xx" for injected errors, "timeout" for latency beyond Graph's
// 60 s, "drop" (Status 0), "lostResponse" (Status is what the client would
// have seen), "unknownError" (Faults.RateUnknownError) and
// "notUniqueUnsaved" (Faults.RateNotUniqueUnsaved).
type Stat struct {
	// Tenant is the tenant id the row counts for, as passed to TenantStats;
	// "" in Stats, whose rows sum every tenant.
	Tenant string `json:"tenant,omitempty"`
	Method string `json:"method"`
	Route  string `json:"route"`
	Status int    `json:"status"`
	Fault  string `json:"fault,omitempty"`
	Count  int    `json:"count"`
}

// Emulator is Graph plus the login authority. It implements http.Handler.
type Emulator struct {
	opts   Options
	tokKey []byte // HMAC key for access tokens; random per emulator

	mu      sync.Mutex
	tenants map[string]*tenant // by lower-case id

	faultMu  sync.Mutex
	faults   Faults
	rng      *mrand.Rand // classic faults
	quirkRng *mrand.Rand // quirks, kept apart so they leave rng's sequence alone

	throttle   *throttler
	stats      *statsTable
	priorities *priorityTable // x-ms-throttle-priority of Graph requests

	// audit holds each tenant's audit log, by lower-case tenant id; guarded by mu.
	audit map[string]*auditLog

	// retirement is the SMS sign-in retirement in force (retirement.go), guarded by retireMu
	// (not mu: tenants read it while mu is held).
	retireMu   sync.Mutex
	retirement SMSSignInRetirement
}

// New returns an emulator with no tenants.
func New(opts Options) *Emulator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.ThrottleScale <= 0 || math.IsNaN(opts.ThrottleScale) {
		opts.ThrottleScale = 1
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails on supported platforms
	seed := uint64(opts.Seed)
	return &Emulator{
		opts:       opts,
		tokKey:     key,
		tenants:    map[string]*tenant{},
		faults:     opts.Faults.clone(),
		rng:        mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		quirkRng:   mrand.New(mrand.NewPCG(seed^0xd1b54a32d192ed03, seed)),
		throttle:   newThrottler(opts.ThrottleScale),
		stats:      newStatsTable(),
		retirement: opts.SMSSignInRetirement,
		priorities: newPriorityTable(),
	}
}

func (e *Emulator) now() time.Time { return e.opts.Now() }

// SetFaults replaces the injected faults; the random sequence continues.
func (e *Emulator) SetFaults(f Faults) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = f.clone()
}

// CurrentFaults returns the faults in force.
func (e *Emulator) CurrentFaults() Faults {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	return e.faults.clone()
}

// clone copies the slices too, so a caller changing MaskUsers afterwards
// never races with requests.
func (f Faults) clone() Faults {
	f.MaskUsers = slices.Clone(f.MaskUsers)
	return f
}

// Stats returns the call counts, sorted by route, method, status, fault.
func (e *Emulator) Stats() []Stat { return e.stats.snapshot() }

// ResetStats zeroes the call counts and the priority counts.
func (e *Emulator) ResetStats() {
	e.stats.reset()
	e.priorities.reset()
}

// Count sums the Count of stats matching method and route (either may be
// "" to match all). A convenience for tests asserting call budgets.
func (e *Emulator) Count(method, route string) int {
	return countMatching(e.Stats(), method, route)
}

// TenantStats returns one tenant's call counts (tenant ids compare
// case-insensitively), sorted like Stats. A token or discovery request
// belongs to the tenant in its path; a Graph request, and each part of a
// $batch, to the tenant (tid) of its bearer token when the emulator
// signed that token. Everything else is counted under "".
func (e *Emulator) TenantStats(tenantID string) []Stat { return e.stats.tenantSnapshot(tenantID) }

// TenantCount is Count for one tenant's calls.
func (e *Emulator) TenantCount(tenantID, method, route string) int {
	return countMatching(e.TenantStats(tenantID), method, route)
}

// ResetTenantStats zeroes one tenant's call and priority counts; other tenants' stay.
func (e *Emulator) ResetTenantStats(tenantID string) {
	e.stats.resetTenant(tenantID)
	e.priorities.resetTenant(tenantID)
}

// ServeHTTP routes to the login authority, Graph or the admin API, then
// records stats and the log line, and finally drops the connection when a
// fault asked for it (after recording, so the call is still counted).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &recordingWriter{ResponseWriter: w}
	s := e.route(rw, r)
	if s.route == "" { // admin API and disabled paths are not counted
		return
	}
	if s.status == 0 {
		s.status = rw.status
	}
	e.stats.add(s.tenant, r.Method, s.route, s.status, s.fault)
	if e.opts.Log != nil {
		rid := cmp.Or(rw.Header().Get("request-id"), rw.Header().Get("x-ms-request-id"))
		e.opts.Log(RequestLog{Method: r.Method, Route: s.route, Status: s.status, Fault: s.fault,
			RequestID: rid, Duration: time.Since(start), Priority: r.Header.Get(PriorityHeader)})
	}
	if s.abort {
		abortConn(w)
	}
}

// route dispatches on the first path segment.
func (e *Emulator) route(w *recordingWriter, r *http.Request) served {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_emulator/") || p == "/_emulator":
		if !e.opts.EnableAdmin {
			http.NotFound(w, r)
			return served{}
		}
		e.serveAdmin(w, r)
		return served{}
	case p == "/v1.0" || p == "/beta" || strings.HasPrefix(p, "/v1.0/") || strings.HasPrefix(p, "/beta/"):
		return e.serveCompressed(w, r)
	default:
		return e.serveLogin(w, r)
	}
}

// recordingWriter remembers the status for stats and logs.
type recordingWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Hijack on the real writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ErrNotFound is wrapped by out-of-band calls naming an unknown tenant,
// user or phone method.
var ErrNotFound = errors.New("not found")

func errorf(format string, a ...any) error { return fmt.Errorf("emulator: "+format, a...) }

func notFoundf(format string, a ...any) error {
	return fmt.Errorf("emulator: %s: %w", fmt.Sprintf(format, a...), ErrNotFound)
}
