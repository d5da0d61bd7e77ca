package pace

import (
	"cmp"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepEvery is how many records a rail holds before it drops those that no longer restrict
// anything, so that objects and namespaces that went away cost no memory.
const sweepEvery = 4096

// spacingWait is how long an event must wait after the previous one (at last, if seen) so that
// two events are at least interval apart; zero means now.
func spacingWait(last time.Time, seen bool, interval time.Duration, now time.Time) time.Duration {
	if !seen {
		return 0
	}
	return max(0, last.Add(interval).Sub(now))
}

// Spacing allows one event per key per Interval.
type Spacing struct {
	Interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
}

// Wait is how long key's next event must wait; zero means it may happen now. It records
// nothing (Mark does).
func (s *Spacing) Wait(key string, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, seen := s.last[key]
	return spacingWait(last, seen, s.Interval, now)
}

// Mark records an event of key at now.
func (s *Spacing) Mark(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	if len(s.last) >= sweepEvery {
		for k, t := range s.last {
			if spacingWait(t, true, s.Interval, now) == 0 {
				delete(s.last, k)
			}
		}
	}
	s.last[key] = now
}

// Take is Wait, and Mark when the wait is zero.
func (s *Spacing) Take(key string, now time.Time) time.Duration {
	if d := s.Wait(key, now); d > 0 {
		return d
	}
	s.Mark(key, now)
	return 0
}

// Buckets is a token bucket per key: Rate events per second on average, Burst at once.
type Buckets struct {
	Rate  rate.Limit
	Burst int
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

// Take spends one of key's tokens and returns zero, or, when none is left, spends nothing and
// returns how long until one is.
func (b *Buckets) Take(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*rate.Limiter{}
	}
	if len(b.m) >= sweepEvery {
		for k, l := range b.m {
			if l.TokensAt(now) >= float64(b.Burst) {
				delete(b.m, k) // full again: forgetting it changes nothing
			}
		}
	}
	l, ok := b.m[key]
	if !ok {
		l = rate.NewLimiter(b.Rate, b.Burst)
		b.m[key] = l
	}
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return time.Hour // a burst of zero: never; the caller still comes back
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// The rails' defaults. A forced re-read is for a person who fixed something in Entra, or a
// pipeline after a deploy. One per object every 10 s is as fresh as reading Graph gets (its
// reads trail its writes by 5-10 s, and the Observer shares a read for 10 s anyway); a
// namespace's 12 a minute after a burst of 20 is far above a person's or a pipeline's need, and
// caps what one namespace can spend of its tenant's Graph reads at one read every 5 s. A new
// number in ObserveOnly or CreateOnly is compared at most once a minute per phone: a typo fixed
// waits a minute, and guessing the seven digits the mask hides would take years per phone.
const (
	DefaultForcedReadInterval   = 10 * time.Second
	DefaultForcedReadsPerMinute = 12
	DefaultForcedReadBurst      = 20
	DefaultComparisonInterval   = time.Minute
)

// NewForcedReads builds the forced re-read rails; a zero argument takes its default.
func NewForcedReads(interval time.Duration, perMinute float64, burst int) *ForcedReads {
	return &ForcedReads{
		PerObject: Spacing{Interval: cmp.Or(interval, DefaultForcedReadInterval)},
		PerNamespace: Buckets{Rate: rate.Limit(cmp.Or(perMinute, DefaultForcedReadsPerMinute) / 60),
			Burst: cmp.Or(burst, DefaultForcedReadBurst)},
	}
}

// ForcedReads decides whether a forced re-read of an object is honoured now: at most one per
// object per Spacing.Interval, and within its namespace's bucket.
type ForcedReads struct {
	PerObject    Spacing
	PerNamespace Buckets
}

// Take returns zero and counts the read when the object's forced re-read may happen now, or
// how long until it may (and counts nothing).
func (f *ForcedReads) Take(namespace, object string, now time.Time) time.Duration {
	if d := f.PerObject.Wait(object, now); d > 0 {
		return d
	}
	if d := f.PerNamespace.Take(namespace, now); d > 0 {
		return d
	}
	f.PerObject.Mark(object, now)
	return 0
}

// compared is the last number a phone's desired value was compared as, and when.
type compared struct {
	number string // a keyed fingerprint, never the number
	at     time.Time
}

// comparisonWait is how long a comparison of number must wait after prev (if seen): the same
// number as last time is compared at once (a resync, drift), a different one only Interval
// after the last new one.
func comparisonWait(prev compared, seen bool, number string, interval time.Duration, now time.Time) time.Duration {
	if !seen || prev.number == number {
		return 0
	}
	return spacingWait(prev.at, true, interval, now)
}

// Comparisons spaces the comparisons of new desired numbers with Graph's, per phone: a
// namespace that changes the number in an ObserveOnly or CreateOnly spec learns from Ready
// whether it matches Graph's, so each new number costs Interval.
type Comparisons struct {
	Interval time.Duration
	mu       sync.Mutex
	last     map[string]compared
}

// NewComparisons builds the comparison rail; zero takes DefaultComparisonInterval.
func NewComparisons(interval time.Duration) *Comparisons {
	return &Comparisons{Interval: cmp.Or(interval, DefaultComparisonInterval)}
}

// Take returns zero and records number as phone's last comparison when it may be compared now
// (the first, the same as last time, or Interval after the last new one), or how long until it
// may.
func (c *Comparisons) Take(phone, number string, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, seen := c.last[phone]
	if d := comparisonWait(prev, seen, number, c.Interval, now); d > 0 {
		return d
	}
	if seen && prev.number == number {
		return 0 // keeps the time of the number's first comparison
	}
	if c.last == nil {
		c.last = map[string]compared{}
	}
	if len(c.last) >= sweepEvery {
		for k, p := range c.last {
			if spacingWait(p.at, true, c.Interval, now) == 0 {
				delete(c.last, k)
			}
		}
	}
	c.last[phone] = compared{number: number, at: now}
	return 0
}
