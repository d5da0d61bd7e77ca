package schedule

import (
	"hash/fnv"
	"strconv"
	"time"
)

// Sweeps says how often the converged objects of a tenant re-read Graph. The change feed
// implements it: while a tenant's feed is healthy, the feed notices changes and the full
// re-read becomes a rare safety net.
type Sweeps interface {
	// SweepPeriod is the tenant's (by EntraTenant name) period while its change feed is
	// healthy, or 0 to keep the resync period.
	SweepPeriod(tenant string) time.Duration
}

// Resync is the schedule of converged objects' reads of Graph.
type Resync struct {
	// Period is --resync-period, every tenant's period while its change feed is not healthy.
	Period time.Duration
	// Sweeps stretches Period for the tenants whose change feed is healthy; nil keeps Period
	// for every tenant.
	Sweeps Sweeps
}

// PeriodFor is the tenant's current resync period.
func (r Resync) PeriodFor(tenant string) time.Duration {
	if r.Sweeps != nil {
		if p := r.Sweeps.SweepPeriod(tenant); p > 0 {
			return p
		}
	}
	return r.Period
}

// Next is how long until the user's next read: on the user's phase of the tenant's current
// period. Both periods are spread per user by After, so a tenant switching between them keeps
// a flat read load.
func (r Resync) Next(tenant, userID string, now time.Time) time.Duration {
	return After(Key(tenant, userID), r.PeriodFor(tenant), now)
}

// Key names a user's slot in the resync schedule; the objects of one user share it, so they
// come due together and share one GET through the observer.
func Key(tenant, userID string) string { return tenant + "/" + userID }

// After schedules the next read of the slot key in a schedule of the given period: at the
// key's fixed phase of the period, moved by the cycle's jitter of up to ±10 % of the period,
// and at least a second from now.
func After(key string, period time.Duration, now time.Time) time.Duration {
	if period <= 0 {
		return 0
	}
	earliest := now.Add(time.Second)
	// Start a cycle early: with jitter, the previous cycle's instant may still be ahead.
	nominal := now.Truncate(period).Add(time.Duration(hash(key) % uint64(period))).Add(-period)
	for {
		at := nominal.Add(cycleJitter(key, nominal, period))
		if at.After(earliest) {
			return at.Sub(now)
		}
		nominal = nominal.Add(period)
	}
}

// cycleJitter is the key's offset in [-period/10, +period/10] for the cycle due at nominal.
func cycleJitter(key string, nominal time.Time, period time.Duration) time.Duration {
	span := uint64(period / 5)
	if span == 0 {
		return 0
	}
	h := hash(key + "@" + strconv.FormatInt(nominal.UnixNano(), 10))
	return time.Duration(h%span) - period/10
}

func hash(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}
