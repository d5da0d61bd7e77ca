package graph

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the time source of pauses and backoff. Tests substitute a fake
// (see graphtest.FakeClock) to drive them without sleeping.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Throttles holds the throttling state of every tenant: the pause set by
// Retry-After and the client-side token buckets. Graph throttles per tenant
// (and app), so every Client of a tenant must share one state; NewClient
// looks it up here by tenant id.
type Throttles struct {
	clock Clock

	mu      sync.Mutex
	tenants map[string]*tenantThrottle
}

// DefaultThrottles is the process-wide registry that NewClient uses when
// Config.Throttles is nil.
var DefaultThrottles = NewThrottles(nil)

// NewThrottles returns an empty registry; a nil clock means the real one.
func NewThrottles(clock Clock) *Throttles {
	if clock == nil {
		clock = realClock{}
	}
	return &Throttles{clock: clock, tenants: map[string]*tenantThrottle{}}
}

// forTenant returns the tenant's shared state, creating it on first use.
// The latest limits win, so a changed EntraTenant takes effect on the next
// client built for it.
func (t *Throttles) forTenant(tenantID string, l Limits) *tenantThrottle {
	key := strings.ToLower(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	tt, ok := t.tenants[key]
	if !ok {
		tt = &tenantThrottle{
			tenant:   key,
			clock:    t.clock,
			requests: rate.NewLimiter(rate.Limit(l.RequestsPerSecond), l.Burst),
			writes:   rate.NewLimiter(rate.Limit(l.WritesPerSecond), l.WriteBurst),
		}
		t.tenants[key] = tt
		return tt
	}
	tt.requests.SetLimit(rate.Limit(l.RequestsPerSecond))
	tt.requests.SetBurst(l.Burst)
	tt.writes.SetLimit(rate.Limit(l.WritesPerSecond))
	tt.writes.SetBurst(l.WriteBurst)
	return tt
}

// pauses returns the remaining pause of every tenant, for the metrics
// collector.
func (t *Throttles) pauses() map[string]time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]time.Duration, len(t.tenants))
	for k, tt := range t.tenants {
		out[k] = tt.remaining()
	}
	return out
}

// tenantThrottle is one tenant's shared throttling state.
type tenantThrottle struct {
	tenant   string
	clock    Clock
	requests *rate.Limiter // every request: Graph's resource-unit bucket
	writes   *rate.Limiter // POST/PATCH/DELETE: Graph's separate write bucket

	mu          sync.Mutex
	pausedUntil time.Time
}

// pause stops every request of the tenant for d. Pauses only ever extend:
// a shorter Retry-After arriving later must not cut a longer one short
// ("throttling can only slow us down").
func (tt *tenantThrottle) pause(d time.Duration) {
	until := tt.clock.Now().Add(d)
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if until.After(tt.pausedUntil) {
		tt.pausedUntil = until
	}
}

// remaining is how much of the pause is left.
func (tt *tenantThrottle) remaining() time.Duration {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if d := tt.pausedUntil.Sub(tt.clock.Now()); d > 0 {
		return d
	}
	return 0
}

// errPauseTooLong is returned by admit when the pause left exceeds what the
// caller is willing to block for.
type errPauseTooLong struct{ remaining time.Duration }

func (e errPauseTooLong) Error() string { return "tenant paused by Graph throttling" }

// admit blocks until the tenant may send one more request: the pause has
// passed and the token buckets have a token. A pause longer than maxWait is
// not waited out; the caller gets errPauseTooLong and should requeue, so that
// a throttled tenant does not hold every worker of the operator.
func (tt *tenantThrottle) admit(ctx context.Context, write bool, maxWait time.Duration) error {
	for {
		if err := tt.waitPause(ctx, maxWait); err != nil {
			return err
		}
		if err := tt.take(ctx, write); err != nil {
			return err
		}
		// A 429 seen by another worker while we waited for a token starts
		// a new pause that applies to us too.
		if tt.remaining() == 0 {
			return nil
		}
	}
}

// waitPause waits out the current pause, if any, re-checking after each wait
// because the pause may have been extended meanwhile.
func (tt *tenantThrottle) waitPause(ctx context.Context, maxWait time.Duration) error {
	for {
		d := tt.remaining()
		if d == 0 {
			return nil
		}
		if d > maxWait {
			return errPauseTooLong{remaining: d}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tt.clock.After(d):
		}
	}
}

// take consumes a token from the tenant's buckets.
func (tt *tenantThrottle) take(ctx context.Context, write bool) error {
	if err := tt.requests.Wait(ctx); err != nil {
		return err
	}
	if write {
		return tt.writes.Wait(ctx)
	}
	return nil
}
