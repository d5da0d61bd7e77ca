package usercache

import (
	"cmp"
	"context"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
)

// DefaultFillThreshold is how many user keys a tenant's objects hold (userindex.Index.Keys: a
// user's UPN and object id, so between one and two per user) before Fill pays: one page of
// Graph's user listing holds 999 users, so from about a thousand named users on, paging the
// whole directory once per TTL costs fewer calls than one lookup per user per TTL (at 50,000
// named users in a 50,000-user tenant: 51 pages instead of 50,000 lookups). Below it, per-user
// lookups are cheaper, because the directory may hold many more users than phoneop manages.
const DefaultFillThreshold = 1000

// Lister pages every user of one tenant (graph.Client.ListUsers with no filter).
type Lister func(ctx context.Context, page func([]graph.User) error) error

// fill is one tenant's paging state.
type fill struct {
	started  time.Time     // when the last fill started (zero: never)
	inFlight chan struct{} // closed when the running fill ends; nil when none runs
	err      error         // the last fill's error
	pages    int           // how many pages the last fill read: what a fill costs
	// missed counts the lookups made without a fill since missedSince, within one TTL.
	missed      int
	missedSince time.Time
}

// Fill pages every user of the tenant into the cache, so that the tenant's objects resolve
// their users from the cache instead of with one lookup each. The first fill of a tenant is made
// at once (a start or an onboarding resolves every user). After it, a fill is made only when it
// pays (fillDue): not within three quarters of a TTL of the last one, and only once the lookups
// made without it within one TTL have cost as many calls as the last fill's pages. So a tenant
// whose users are read on the resync period (every user a period) is filled about once a
// period, for a few lookups more, while one whose change feed stretches the resync to a daily
// sweep (a few users a TTL) is not paged for each swept user. Callers for a tenant whose fill is
// running wait for it. namedKeys is how many user keys the tenant's objects
// hold: below FillThreshold no fill is made. It reports whether the cache was filled by this
// call or the one it waited for; false with a nil error means no fill was due (the caller looks
// the user up on its own).
//
// A listed user without an object id or a userPrincipalName is not cached, as with a lookup:
// an answer without identity can be neither bound nor scoped.
func (c *Cache) Fill(ctx context.Context, tenantID string, namedKeys int, list Lister) (bool, error) {
	if namedKeys < cmp.Or(c.FillThreshold, DefaultFillThreshold) {
		return false, nil
	}
	c.mu.Lock()
	if c.fills == nil {
		c.fills = map[string]*fill{}
	}
	f := c.fills[tenantID]
	if f == nil {
		f = &fill{}
		c.fills[tenantID] = f
	}
	if wait := f.inFlight; wait != nil {
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		c.mu.RLock()
		defer c.mu.RUnlock()
		return f.err == nil, f.err
	}
	if !c.fillDue(f, c.now()) {
		c.mu.Unlock()
		return false, nil
	}
	f.started, f.inFlight, f.missed, f.missedSince = c.now(), make(chan struct{}), 0, c.now()
	c.mu.Unlock()

	pages := 0
	err := list(ctx, func(users []graph.User) error {
		pages++
		c.putAll(tenantID, users)
		return nil
	})

	c.mu.Lock()
	defer c.mu.Unlock()
	f.err, f.pages = err, pages
	close(f.inFlight)
	f.inFlight = nil
	return err == nil, err
}

// fillDue decides whether a miss at now starts a fill: always for the tenant's first; never
// within three quarters of a TTL of the last (with no TTL entries never expire, and one fill is
// enough); otherwise once the lookups missed within the last TTL number the last fill's pages
// (a fill then costs at most what the lookups it replaces would). A miss that starts no fill
// is counted, as the lookup the caller makes instead; one soon after a fill is not (the fill
// did not have that user, and another would not either). The caller holds c.mu.
func (c *Cache) fillDue(f *fill, now time.Time) bool {
	if f.started.IsZero() {
		return true
	}
	if c.TTL <= 0 || now.Sub(f.started) < c.TTL*3/4 {
		return false
	}
	if now.Sub(f.missedSince) > c.TTL {
		f.missed, f.missedSince = 0, now // the older lookups' users have expired again anyway
	}
	if f.missed >= max(f.pages, 1) {
		return true
	}
	f.missed++
	return false
}

// putAll puts each user of one listed page that has both an id and a UPN.
func (c *Cache) putAll(tenantID string, users []graph.User) {
	for _, u := range users {
		if u.ID != "" && u.UserPrincipalName != "" {
			c.Put(tenantID, u)
		}
	}
}
