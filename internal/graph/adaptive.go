package graph

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Graph's documented buckets per app and tenant (graph-phone-methods.md, Throttling): 3,500
// resource units per 10 s for the smallest tenants, and 3,000 writes per 150 s. Both start
// full, so a tenant may spend the whole bucket at once and then its refill rate. The
// phone-method backend's own limits are not documented: these are where a tenant's rates
// start, not a promise, and adaptiveRate moves away from them as Graph answers.
const (
	documentedRequestRate   = 350.0
	documentedRequestBucket = 3500
	documentedWriteRate     = 20.0
	documentedWriteBucket   = 3000
)

// The rate steering, after TCP congestion control (AIMD, with CUBIC's gentler decrease):
// the real limit is unknown and may change, so phoneop probes for it.
const (
	// throttleDecrease multiplies the rate on a 429.
	throttleDecrease = 0.7
	// nearLimitDecrease multiplies the rate when Graph reports usage at or above
	// nearLimitFraction of its limit, at most once per adjustInterval.
	nearLimitDecrease = 0.95
	nearLimitFraction = 0.98
	// holdFraction: at or above it (and below nearLimitFraction) the rate is held.
	holdFraction = 0.9
	// cleanIncrease is the share of the cap added per adjustInterval of clean answers.
	cleanIncrease = 0.02
	// adjustInterval spaces the adjustments, so one burst of answers counts once.
	adjustInterval = time.Second
	// minRateShare is the floor, as a share of the starting rate: throttling can slow a
	// tenant down, never stop it.
	minRateShare = 0.05
)

// throttleSignal is what one answer says about the bucket it drew from.
type throttleSignal int

const (
	signalClean     throttleSignal = iota // a 2xx (or any non-429) with usage well below the limit
	signalHold                            // usage between holdFraction and nearLimitFraction
	signalNearLimit                       // usage at or above nearLimitFraction
	signalThrottled                       // a 429
)

// signalOf maps an answer to its signal: a 429, or Graph's x-ms-throttle-limit-percentage
// header (a fraction of the limit, sent from 0.8 up; absent means well below).
func signalOf(throttled bool, usage float64) throttleSignal {
	switch {
	case throttled:
		return signalThrottled
	case usage >= nearLimitFraction:
		return signalNearLimit
	case usage >= holdFraction:
		return signalHold
	}
	return signalClean
}

// adaptiveRate is one of a tenant's token buckets whose refill rate follows Graph's answers
// between a floor and the configured cap (the manager's flags are upper caps).
type adaptiveRate struct {
	mu         sync.Mutex
	lim        *rate.Limiter
	rate, cap  float64
	floor      float64
	lastAdjust time.Time
}

// newAdaptiveRate starts at Graph's documented rate and bucket, both capped by the flags, with
// the bucket full, as Graph's is.
func newAdaptiveRate(now time.Time, documentedRate float64, documentedBucket int, capRate float64, capBurst int) *adaptiveRate {
	start := min(documentedRate, capRate)
	a := &adaptiveRate{rate: start, cap: capRate, floor: start * minRateShare, lastAdjust: now}
	a.lim = rate.NewLimiter(rate.Limit(start), min(documentedBucket, capBurst))
	return a
}

// setCaps applies changed flags or limits: the rate stays where it was, within the new cap.
func (a *adaptiveRate) setCaps(now time.Time, capRate float64, capBurst int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cap = capRate
	a.floor = min(a.floor, capRate)
	a.rate = min(a.rate, capRate)
	a.lim.SetLimitAt(now, rate.Limit(a.rate))
	if capBurst < a.lim.Burst() {
		a.lim.SetBurstAt(now, capBurst)
	}
}

func (a *adaptiveRate) reserve(now time.Time) *rate.Reservation {
	return a.lim.ReserveN(now, 1)
}

// current returns the bucket's rate, for tests and metrics.
func (a *adaptiveRate) current() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rate
}

// observe steers the rate by one answer's signal.
func (a *adaptiveRate) observe(now time.Time, s throttleSignal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch s {
	case signalThrottled:
		// Graph's bucket is empty: so is ours from now on, at a lower rate. The 429s of one
		// burst of in-flight requests lower the rate once.
		if now.Sub(a.lastAdjust) >= adjustInterval {
			a.setRateLocked(now, a.rate*throttleDecrease)
		}
		a.drainLocked(now)
	case signalNearLimit:
		if now.Sub(a.lastAdjust) >= adjustInterval {
			a.setRateLocked(now, a.rate*nearLimitDecrease)
		}
	case signalClean:
		if now.Sub(a.lastAdjust) >= adjustInterval && a.rate < a.cap {
			a.setRateLocked(now, a.rate+a.cap*cleanIncrease)
		}
	}
}

func (a *adaptiveRate) setRateLocked(now time.Time, r float64) {
	a.rate = min(max(r, a.floor), a.cap)
	a.lim.SetLimitAt(now, rate.Limit(a.rate))
	a.lastAdjust = now
}

// drainLocked spends the tokens left, so that the next request waits for a refill.
func (a *adaptiveRate) drainLocked(now time.Time) {
	if n := int(a.lim.TokensAt(now)); n > 0 {
		a.lim.ReserveN(now, n)
	}
}
