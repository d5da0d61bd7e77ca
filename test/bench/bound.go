package bench

import (
	"math"
	"time"

	"github.com/phoneop/phoneop/internal/graph/emulator"
)

// Graph's documented identity-and-access limits, taken from the emulator that enforces them, so
// the bound and the emulator can never disagree. A write costs 1 resource unit (RU) plus 1
// write; a GET costs 1 RU.
const (
	AppWriteLimit  = emulator.AppWriteLimit
	AppWriteWindow = emulator.AppWriteWindow
	RUWindow       = emulator.RUWindow
)

// RULimit is the resource units per RUWindow of a tenant with users users: the benchmark's
// tenant holds every seeded user, so N ≥ 501 lands in the largest tier (8,000 RU per 10 s).
func RULimit(users int) int { return emulator.RULimit(users) }

// Work is what a run has to do at the least, whatever the operator does: every object needs
// one create, and a user's methods must be read once before anything is written for them.
type Work struct {
	Users   int // users in the tenant (all of them have objects)
	Writes  int // one create per object
	Reads   int // one list per user
	Latency time.Duration
	// Concurrency is how many Graph calls the operator may have in flight
	// (--max-concurrent-reconciles: a reconcile makes its calls one after the other).
	Concurrency int
}

// Calls is every Graph call of the minimal work.
func (w Work) Calls() int { return w.Writes + w.Reads }

// Bound is the lower bound of the time the work takes, by each limit.
type Bound struct {
	// Writes is total writes ÷ the sustained write limit (20/s).
	Writes time.Duration
	// RU is total resource units ÷ the sustained RU limit.
	RU time.Duration
	// Latency is the minimal calls × mean latency ÷ concurrency.
	Latency time.Duration
	// BurstAware is the write bound when Graph's buckets start full (a fresh app+tenant):
	// the first 3,000 writes (and 8,000 RU) cost no waiting. It is the floor no client can
	// beat; the sustained bound (Max) is the one the targets use, as the issue defines it.
	BurstAware time.Duration
}

// Max is the binding bound: max(writes, RU, latency), each at the sustained rate.
func (b Bound) Max() time.Duration { return max(b.Writes, b.RU, b.Latency) }

// Binding names the limit that sets Max.
func (b Bound) Binding() string {
	switch b.Max() {
	case b.Writes:
		return "writes"
	case b.RU:
		return "resource units"
	}
	return "latency"
}

// LowerBound computes the bound of w.
func LowerBound(w Work) Bound {
	writeRate := float64(AppWriteLimit) / AppWriteWindow.Seconds() // the app limit binds: 20/s < 60/s
	ruLimit := RULimit(w.Users)
	ruRate := float64(ruLimit) / RUWindow.Seconds()
	ru := w.Writes + w.Reads
	seconds := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	b := Bound{
		Writes: seconds(float64(w.Writes) / writeRate),
		RU:     seconds(float64(ru) / ruRate),
	}
	if w.Concurrency > 0 {
		b.Latency = seconds(float64(w.Calls()) * w.Latency.Seconds() / float64(w.Concurrency))
	}
	b.BurstAware = max(
		seconds(math.Max(0, float64(w.Writes-AppWriteLimit))/writeRate),
		seconds(math.Max(0, float64(ru-ruLimit))/ruRate),
		b.Latency)
	return b
}
