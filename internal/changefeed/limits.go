package changefeed

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Graph limits the audit log apart from the directory: directoryAudit is an "Identity and
// access reports" resource, at 5 requests per 10 seconds per app per tenant and 122 requests
// per 10 seconds per app across all tenants (Microsoft Graph throttling limits,
// includes/throttling-entra-logs-reports.md of microsoft-graph-docs-contrib; older versions
// list the per-tenant figure only). The feed keeps under both on its own, so that a poll is
// never answered 429 and never spends the tenant's directory budget.
const (
	// reportsPerTenant requests per reportsWindow per app and tenant.
	reportsPerTenant = 5
	// reportsPerApp requests per reportsWindow per app across all tenants.
	reportsPerApp = 122
	// reportsWindow is the window of both limits.
	reportsWindow = 10 * time.Second
	// reportsSlack stretches the window the feed refills over: a request leaves the manager
	// some milliseconds before Graph counts it, and a later request can arrive sooner after
	// it than it left, so a limiter refilling exactly at Graph's rate would now and then
	// meet a 429. One second in ten costs a tenth of the rate.
	reportsSlack = time.Second
)

// reportsLimiter keeps the feed's audit log reads within the reports limits: a window per
// tenant (per app and tenant: each EntraTenant has its own app) and one per app across all
// tenants. share is this process's part of the limits when shards poll the same tenants
// (graph.Limits.Share); 0 means 1. Safe for concurrent use; the zero value is ready.
type reportsLimiter struct {
	share float64
	// now is the clock; nil means time.Now.
	now func() time.Time

	mu      sync.Mutex
	tenants map[string]*slidingWindow // by lower-case tenant id
	apps    map[string]*slidingWindow // by lower-case client id
}

// slidingWindow admits at most limit requests in any span of span: it remembers the times of
// the last limit requests (admitted or promised). Exact where a token bucket is not: a
// request promised but never sent is handed back by removing its time.
type slidingWindow struct {
	limit int
	span  time.Duration
	times []time.Time // ascending, at most limit
}

// earliest is the first time at or after now when one more request fits.
func (w *slidingWindow) earliest(now time.Time) time.Time {
	if len(w.times) < w.limit {
		return now
	}
	// The request may go once the limit-th latest request has left the span.
	if at := w.times[len(w.times)-w.limit].Add(w.span); at.After(now) {
		return at
	}
	return now
}

// take records a request at at.
func (w *slidingWindow) take(at time.Time) {
	w.times = append(w.times, at)
	slices.SortFunc(w.times, time.Time.Compare)
	if len(w.times) > w.limit {
		w.times = append(w.times[:0], w.times[len(w.times)-w.limit:]...)
	}
}

// refund forgets the request recorded at at.
func (w *slidingWindow) refund(at time.Time) {
	for i := len(w.times) - 1; i >= 0; i-- {
		if w.times[i].Equal(at) {
			w.times = append(w.times[:i], w.times[i+1:]...)
			return
		}
	}
}

// newWindow is a window of limit requests per reportsWindow (+ slack), scaled by share.
func newWindow(limit int, share float64) *slidingWindow {
	if share <= 0 || share > 1 {
		share = 1
	}
	return &slidingWindow{limit: max(1, int(math.Floor(float64(limit)*share))), span: reportsWindow + reportsSlack}
}

// windowsFor returns the tenant's and the app's windows, creating them. The caller holds l.mu.
func (l *reportsLimiter) windowsFor(tenantID, appID string) []*slidingWindow {
	if l.tenants == nil {
		l.tenants, l.apps = map[string]*slidingWindow{}, map[string]*slidingWindow{}
	}
	t, a := strings.ToLower(tenantID), strings.ToLower(appID)
	if l.tenants[t] == nil {
		l.tenants[t] = newWindow(reportsPerTenant, l.share)
	}
	if l.apps[a] == nil {
		l.apps[a] = newWindow(reportsPerApp, l.share)
	}
	return []*slidingWindow{l.tenants[t], l.apps[a]}
}

// reserve promises the tenant's app one request at the earliest time both windows allow, and
// returns that time.
func (l *reportsLimiter) reserve(tenantID, appID string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	windows := l.windowsFor(tenantID, appID)
	at := l.clock()
	for _, w := range windows {
		if e := w.earliest(at); e.After(at) {
			at = e
		}
	}
	for _, w := range windows {
		w.take(at)
	}
	return at
}

// refund hands back a request promised at at and never sent.
func (l *reportsLimiter) refund(tenantID, appID string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.windowsFor(tenantID, appID) {
		w.refund(at)
	}
}

func (l *reportsLimiter) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// reportsGate admits one poll's requests, one at a time: next before each request, done at
// the end. A poll does not know whether a page is the last, so it reserves the next request
// after each page; done hands back the one never sent.
type reportsGate struct {
	limiter         *reportsLimiter
	tenantID, appID string
	pending         time.Time // the promised request not known to be sent; zero: none
}

// gate starts admitting a poll of the tenant's audit log made as app.
func (l *reportsLimiter) gate(tenantID, appID string) *reportsGate {
	return &reportsGate{limiter: l, tenantID: tenantID, appID: appID}
}

// next waits until one more request fits both windows, or ctx ends (the request is then
// handed back).
func (g *reportsGate) next(ctx context.Context) error {
	at := g.limiter.reserve(g.tenantID, g.appID)
	g.pending = at
	wait := at.Sub(g.limiter.clock())
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		g.done(false)
		return ctx.Err()
	}
}

// sent notes that the promised request went out (its page arrived).
func (g *reportsGate) sent() { g.pending = time.Time{} }

// done ends the poll: sent says whether the last promised request went out (the listing
// failed on it); if not (the listing ended before it), it is handed back.
func (g *reportsGate) done(sent bool) {
	if !g.pending.IsZero() && !sent {
		g.limiter.refund(g.tenantID, g.appID, g.pending)
	}
	g.pending = time.Time{}
}
