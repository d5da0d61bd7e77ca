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
}

// Fill pages every user of the tenant into the cache, so that the tenant's objects resolve
// their users from the cache instead of with one lookup each. It fills at most once per three
// quarters of the TTL per tenant: entries expire one TTL after they were put, so the first miss
// after the expiry starts the next fill, while a miss for a user the listing did not have (a
// user created since, or a UPN nobody holds) does not page the directory again. Callers for a
// tenant whose fill is running wait for it. namedKeys is how many user keys the tenant's objects
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
	if !c.fillDue(f) {
		c.mu.Unlock()
		return false, nil
	}
	f.started, f.inFlight = c.now(), make(chan struct{})
	c.mu.Unlock()

	err := list(ctx, func(users []graph.User) error {
		c.putAll(tenantID, users)
		return nil
	})

	c.mu.Lock()
	defer c.mu.Unlock()
	f.err = err
	close(f.inFlight)
	f.inFlight = nil
	return err == nil, err
}

// fillDue: never filled, or filled three quarters of a TTL ago (with no TTL, entries never
// expire and one fill is enough).
func (c *Cache) fillDue(f *fill) bool {
	return f.started.IsZero() || c.TTL > 0 && c.now().Sub(f.started) >= c.TTL*3/4
}

// putAll puts each user of one listed page that has both an id and a UPN.
func (c *Cache) putAll(tenantID string, users []graph.User) {
	for _, u := range users {
		if u.ID != "" && u.UserPrincipalName != "" {
			c.Put(tenantID, u)
		}
	}
}
