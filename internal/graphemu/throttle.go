package graphemu

import (
	"math"
	"sync"
	"time"
)

// Documented identity-and-access limits (per app+tenant unless noted).
// Graph's documented identity-and-access throttling limits (graph-phone-methods.md). Exported so
// that whatever reasons about Graph's budget (the benchmark's lower bound) uses the same numbers
// the emulator enforces.
const (
	// RUWindow is the window of the resource-unit bucket; its size depends on the tenant.
	RUWindow = 10 * time.Second
	// AppWriteLimit writes per AppWriteWindow per app+tenant: 20 writes/s sustained.
	AppWriteLimit  = 3000
	AppWriteWindow = 150 * time.Second
	// TenantWriteLimit writes per TenantWriteWindow per tenant, all apps together (60/s).
	TenantWriteLimit  = 18000
	TenantWriteWindow = 5 * time.Minute
	// The audit log (directoryAudits) is an "Identity and access reports" resource, limited
	// apart from the directory: ReportsPerTenantLimit requests per ReportsWindow per app and
	// tenant, and ReportsPerAppLimit per app across all tenants (Graph's throttling limits,
	// includes/throttling-entra-logs-reports.md). Its requests spend no resource units.
	ReportsPerTenantLimit = 5
	ReportsPerAppLimit    = 122
	ReportsWindow         = 10 * time.Second
)

// RULimit is the resource units per RUWindow for a tenant of users users.
func RULimit(users int) int {
	switch {
	case users < 50:
		return 3500
	case users <= 500:
		return 5000
	default:
		return 8000
	}
}

// bucket is a token bucket on an injectable clock.
type bucket struct {
	capacity, perSecond float64
	tokens              float64
	last                time.Time
}

func newBucket(limit float64, window time.Duration, scale float64, now time.Time) *bucket {
	b := &bucket{last: now}
	b.resize(limit, window, scale)
	b.tokens = b.capacity
	return b
}

// resize follows the tenant's size class without refunding spent units.
func (b *bucket) resize(limit float64, window time.Duration, scale float64) {
	b.capacity = math.Max(1, math.Floor(limit*scale))
	b.perSecond = limit * scale / window.Seconds()
	b.tokens = math.Min(b.tokens, b.capacity)
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+d*b.perSecond)
		b.last = now
	}
}

// wait is how long until n tokens are available (0: now).
func (b *bucket) wait(n float64) time.Duration {
	if b.tokens >= n {
		return 0
	}
	return time.Duration((n - b.tokens) / b.perSecond * float64(time.Second))
}

func (b *bucket) usedPercent() float64 { return (b.capacity - b.tokens) / b.capacity * 100 }

// throttler holds the buckets: resource units and writes per app+tenant,
// writes per tenant.
type throttler struct {
	mu           sync.Mutex
	scale        float64
	ru, writes   map[string]*bucket
	tenantWrites map[string]*bucket
	// reports and appReports are the audit log's buckets: per app+tenant, per app. They are
	// not scaled by ThrottleScale: the limits are already a handful of requests.
	reports, appReports map[string]*bucket
}

func newThrottler(scale float64) *throttler {
	t := &throttler{scale: scale}
	t.reset()
	return t
}

func (t *throttler) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ru, t.writes, t.tenantWrites = map[string]*bucket{}, map[string]*bucket{}, map[string]*bucket{}
	t.reports, t.appReports = map[string]*bucket{}, map[string]*bucket{}
}

// admitResult says whether a request may proceed (retryAfter 0) and, if
// not, which limit it hit.
type admitResult struct {
	retryAfter int // seconds
	scope      string
	info       string
	percent    float64 // highest bucket usage after this request
}

// need is one bucket a request must draw from.
type need struct {
	b           *bucket
	scope, info string
}

// admit charges 1 RU (and 1 write for writes) if every bucket has room, or for the audit log
// (reports) one request of its own buckets; a throttled request is not charged.
func (t *throttler) admit(appID, tenantID string, users int, write, reports bool, now time.Time) admitResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := lower(appID) + "|" + lower(tenantID)
	if reports {
		return t.charge([]need{
			{t.getUnscaled(t.reports, key, ReportsPerTenantLimit, ReportsWindow, now),
				"Tenant_Application/Reports/" + appID + "/" + tenantID, "ReportsLimitExceeded"},
			{t.getUnscaled(t.appReports, lower(appID), ReportsPerAppLimit, ReportsWindow, now),
				"Application/Reports/" + appID, "ReportsLimitExceeded"},
		})
	}
	needs := []need{{t.get(t.ru, key, float64(RULimit(users)), RUWindow, now),
		"Tenant_Application/ReadWrite/" + appID + "/" + tenantID, "ResourceUnitLimitExceeded"}}
	if write {
		needs = append(needs,
			need{t.get(t.writes, key, AppWriteLimit, AppWriteWindow, now),
				"Tenant_Application/Write/" + appID + "/" + tenantID, "WriteLimitExceeded"},
			need{t.get(t.tenantWrites, lower(tenantID), TenantWriteLimit, TenantWriteWindow, now),
				"Tenant/Write/" + tenantID, "WriteLimitExceeded"})
	}
	return t.charge(needs)
}

// charge takes one token from every bucket of needs if each has one, else nothing, and says
// how long the fullest wait is. The caller holds t.mu.
func (t *throttler) charge(needs []need) admitResult {
	var res admitResult
	var longest time.Duration
	for _, n := range needs {
		if w := n.b.wait(1); w > longest {
			longest, res.scope, res.info = w, n.scope, n.info
		}
	}
	if longest > 0 {
		res.retryAfter = max(1, int(math.Ceil(longest.Seconds())))
		return res
	}
	for _, n := range needs {
		n.b.tokens--
		res.percent = math.Max(res.percent, n.b.usedPercent())
	}
	return res
}

// get returns the refilled bucket for key at the limit scaled by ThrottleScale, creating or
// resizing it.
func (t *throttler) get(m map[string]*bucket, key string, limit float64, window time.Duration, now time.Time) *bucket {
	return bucketFor(m, key, limit, window, t.scale, now)
}

// getUnscaled returns the refilled bucket for key at the documented limit, creating it.
func (t *throttler) getUnscaled(m map[string]*bucket, key string, limit float64, window time.Duration, now time.Time) *bucket {
	return bucketFor(m, key, limit, window, 1, now)
}

// bucketFor returns m's refilled bucket for key at limit×scale per window, creating or resizing it.
func bucketFor(m map[string]*bucket, key string, limit float64, window time.Duration, scale float64, now time.Time) *bucket {
	b, ok := m[key]
	if !ok {
		b = newBucket(limit, window, scale, now)
		m[key] = b
	}
	b.refill(now)
	b.resize(limit, window, scale)
	return b
}
