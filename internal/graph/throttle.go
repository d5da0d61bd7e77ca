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
// client built for it; an adapted rate is kept, within the new caps.
func (t *Throttles) forTenant(tenantID string, l Limits) *tenantThrottle {
	key := strings.ToLower(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	tt, ok := t.tenants[key]
	if !ok {
		now, share := t.clock.Now(), l.Share
		if share <= 0 || share > 1 {
			share = 1
		}
		tt = &tenantThrottle{
			tenant: key,
			clock:  t.clock,
			requests: newAdaptiveRate(now, documentedRequestRate*share, max(1, int(documentedRequestBucket*share)),
				l.RequestsPerSecond, l.Burst),
			writes: newAdaptiveRate(now, documentedWriteRate*share, max(1, int(documentedWriteBucket*share)),
				l.WritesPerSecond, l.WriteBurst),
		}
		t.tenants[key] = tt
		return tt
	}
	tt.requests.setCaps(t.clock.Now(), l.RequestsPerSecond, l.Burst)
	tt.writes.setCaps(t.clock.Now(), l.WritesPerSecond, l.WriteBurst)
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
	requests *adaptiveRate // every request: Graph's resource-unit bucket
	writes   *adaptiveRate // POST/PATCH/DELETE: Graph's separate write bucket

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

// errPauseTooLong is returned by admit when the tenant cannot send soon: a
// Retry-After pause, or our own token buckets, would hold the caller longer
// than it is willing to block for. The caller should requeue its work, so
// that a throttled tenant does not hold every worker of the operator.
type errPauseTooLong struct {
	remaining time.Duration
	// ours: our own token bucket, not Graph, said "not yet".
	ours bool
}

func (e errPauseTooLong) Error() string {
	if e.ours {
		return "tenant's request budget is spent for now"
	}
	return "tenant paused by Graph throttling"
}

// admit waits until the tenant may send one more request: the pause has
// passed and the token buckets have a token. A pause, or a wait for tokens,
// longer than maxWait is not waited out; the caller gets errPauseTooLong.
func (tt *tenantThrottle) admit(ctx context.Context, write bool, maxWait time.Duration) error {
	for {
		if err := tt.waitPause(ctx, maxWait); err != nil {
			return err
		}
		if err := tt.take(ctx, write, maxWait); err != nil {
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
		if err := tt.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// take reserves a token from the tenant's buckets (both, for a write) and
// waits for it, unless that would take longer than maxWait: then nothing is
// reserved and the caller is told how long the wait would have been.
func (tt *tenantThrottle) take(ctx context.Context, write bool, maxWait time.Duration) error {
	now := tt.clock.Now()
	r := tt.requests.reserve(now)
	d := r.DelayFrom(now)
	var w *rate.Reservation
	if write {
		w = tt.writes.reserve(now)
		d = max(d, w.DelayFrom(now))
	}
	if d > maxWait || !r.OK() || (w != nil && !w.OK()) {
		r.CancelAt(now)
		if w != nil {
			w.CancelAt(now)
		}
		return errPauseTooLong{remaining: max(d, time.Second), ours: true}
	}
	return tt.sleep(ctx, d)
}

func (tt *tenantThrottle) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tt.clock.After(d):
		return nil
	}
}

// observe feeds an answer back into the tenant's rates: a 429 halves the rate
// of the bucket it concerns (and empties it, since Graph's is empty too),
// Graph's usage header near the limit slows it, and clean answers speed it up
// again towards the cap.
func (tt *tenantThrottle) observe(write bool, signal throttleSignal) {
	now := tt.clock.Now()
	tt.requests.observe(now, signal)
	if write {
		tt.writes.observe(now, signal)
	}
}
