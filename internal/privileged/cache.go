package privileged

import (
	"context"
	"sync"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
)

// Defaults of Cache.
const (
	// DefaultRefresh is how long a tenant's privileged set is used before it is read again: a
	// new admin is protected at the latest this long after the role is granted.
	DefaultRefresh = 15 * time.Minute
	// DefaultForbiddenRetry is how long a refused read (403: a permission is missing) is
	// remembered before the next try, so that a tenant without the permission costs a few
	// calls a minute, not a few per reconcile.
	DefaultForbiddenRetry = time.Minute
)

// Cache keeps each tenant's privileged set for Refresh. One load runs at a time per tenant;
// concurrent callers wait for it and share its answer. A 403 is remembered for ForbiddenRetry;
// any other failure is not remembered (the next caller tries again, through the tenant's
// throttle and retries).
type Cache struct {
	// Refresh is how long a set is used; zero means DefaultRefresh.
	Refresh time.Duration
	// ForbiddenRetry is how long a 403 is remembered; zero means DefaultForbiddenRetry.
	ForbiddenRetry time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	tenants map[string]*entry
}

type entry struct {
	set     Set
	err     error
	expires time.Time
	// loading is closed when the load in flight ends; nil when none is.
	loading chan struct{}
}

// Get returns the tenant's privileged set, loading it through r when it is missing or stale;
// loaded tells whether this call read Graph (so that its caller reports a failure once per
// load, not once per object).
func (c *Cache) Get(ctx context.Context, tenantID string, r graph.RoleReader) (set Set, loaded bool, err error) {
	for {
		c.mu.Lock()
		if c.tenants == nil {
			c.tenants = map[string]*entry{}
		}
		e := c.tenants[tenantID]
		if e == nil {
			e = &entry{}
			c.tenants[tenantID] = e
		}
		if e.loading == nil && (e.set != nil || e.err != nil) && c.now().Before(e.expires) {
			set, err := e.set, e.err
			c.mu.Unlock()
			return set, false, err
		}
		if wait := e.loading; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		done := make(chan struct{})
		e.loading = done
		c.mu.Unlock()

		set, err := Load(ctx, r)

		c.mu.Lock()
		e.loading = nil
		switch {
		case err == nil:
			e.set, e.err, e.expires = set, nil, c.now().Add(c.refresh())
		case graph.ClassOf(err) == graph.Forbidden:
			e.set, e.err, e.expires = nil, err, c.now().Add(c.forbiddenRetry())
		default:
			// Keep whatever was known; the caller reports err and retries.
		}
		c.mu.Unlock()
		close(done)
		return set, true, err
	}
}

// Forget drops a tenant's set, so that the next Get reads it again (tests; a changed
// permission).
func (c *Cache) Forget(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tenants, tenantID)
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) refresh() time.Duration {
	if c.Refresh > 0 {
		return c.Refresh
	}
	return DefaultRefresh
}

func (c *Cache) forbiddenRetry() time.Duration {
	if c.ForbiddenRetry > 0 {
		return c.ForbiddenRetry
	}
	return DefaultForbiddenRetry
}
