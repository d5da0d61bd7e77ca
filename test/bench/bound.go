package bench

import (
	"math"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// Graph's documented identity-and-access limits, taken from the emulator that enforces them, so
// the floor and the emulator can never disagree. A write costs 1 resource unit (RU) plus 1
// write; a GET costs 1 RU.
const (
	AppWriteLimit  = graphemu.AppWriteLimit
	AppWriteWindow = graphemu.AppWriteWindow
	RUWindow       = graphemu.RUWindow
)

// RULimit is the resource units per RUWindow of a tenant with users users: the benchmark's
// tenant holds every seeded user, so N ≥ 501 lands in the largest tier (8,000 RU per 10 s).
func RULimit(users int) int { return graphemu.RULimit(users) }

// criticalPathCalls is one user's sequential Graph work before its mobile exists: look the
// user up, list its methods, create the phone.
const criticalPathCalls = 3

// Work is what a run has to do at the least, whatever the operator does: every object needs
// one create, and every user one lookup and one list before anything is written for it.
type Work struct {
	Users  int // users in the tenant (all of them have objects)
	Writes int // one create per object
	Reads  int // one user lookup and one list per user
	// Latency is Graph's mean answer time.
	Latency time.Duration
	// ThrottleScale multiplies Graph's documented limits, as the emulator's -throttle-scale
	// does (0 means 1).
	ThrottleScale float64
	// Concurrency is how many Graph calls the operator may have in flight
	// (--max-concurrent-reconciles). It is phoneop's choice, so it is not part of the floor:
	// only the sustained bound (Bound.Latency) uses it.
	Concurrency int
}

// Calls is every Graph call of the minimal work.
func (w Work) Calls() int { return w.Writes + w.Reads }

func (w Work) scale() float64 {
	if w.ThrottleScale <= 0 {
		return 1
	}
	return w.ThrottleScale
}

// limits are the app+tenant's buckets at the work's scale: size and refill per second.
type limits struct {
	writeBucket, writeRate float64
	ruBucket, ruRate       float64
}

func (w Work) limits() limits {
	s := w.scale()
	return limits{
		writeBucket: AppWriteLimit * s, writeRate: AppWriteLimit * s / AppWriteWindow.Seconds(),
		ruBucket: float64(RULimit(w.Users)) * s, ruRate: float64(RULimit(w.Users)) * s / RUWindow.Seconds(),
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Floor is the least time any client could take to converge the work, the benchmark's
// yardstick (its headline is time ÷ floor):
//
//	floor = max( Buckets, Created + CriticalPath )
//
// Buckets is what Graph's documented buckets allow when they are full at the start, as a
// fresh app+tenant's are: the writes beyond the app's write bucket at its refill rate, and the
// resource units beyond the tenant's RU bucket at theirs, whichever is longer. Created is the
// moment the benchmark finished creating the objects in the API server (no object can be
// Ready before it exists), and CriticalPath one user's sequential calls at Graph's mean
// latency (lookup, list, create) for the last object created. How many calls a client keeps
// in flight is its own choice, so concurrency is not part of the floor.
type Floor struct {
	Buckets      time.Duration
	Created      time.Duration
	CriticalPath time.Duration
}

// NewFloor is the floor of w for objects that were all created after created.
func NewFloor(w Work, created time.Duration) Floor {
	l := w.limits()
	ru := float64(w.Writes + w.Reads)
	return Floor{
		Buckets: max(
			seconds(math.Max(0, float64(w.Writes)-l.writeBucket)/l.writeRate),
			seconds(math.Max(0, ru-l.ruBucket)/l.ruRate)),
		Created:      created,
		CriticalPath: time.Duration(criticalPathCalls) * w.Latency,
	}
}

// Max is the floor.
func (f Floor) Max() time.Duration { return max(f.Buckets, f.Created+f.CriticalPath) }

// Binding names the term that sets Max.
func (f Floor) Binding() string {
	if f.Buckets >= f.Created+f.CriticalPath {
		return "Graph's buckets"
	}
	return "creation + critical path"
}

// Bound is the sustained bound, reported beside the floor so that results stay comparable
// with reports that quote it:
// Graph's limits at their refill rates from the first second (buckets empty), and the calls
// at the benchmark's concurrency.
type Bound struct {
	// Writes is total writes ÷ the sustained write limit (20/s).
	Writes time.Duration
	// RU is total resource units ÷ the sustained RU limit.
	RU time.Duration
	// Latency is the minimal calls × mean latency ÷ concurrency.
	Latency time.Duration
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

// LowerBound computes the sustained bound of w.
func LowerBound(w Work) Bound {
	l := w.limits()
	b := Bound{
		Writes: seconds(float64(w.Writes) / l.writeRate),
		RU:     seconds(float64(w.Writes+w.Reads) / l.ruRate),
	}
	if w.Concurrency > 0 {
		b.Latency = seconds(float64(w.Calls()) * w.Latency.Seconds() / float64(w.Concurrency))
	}
	return b
}
