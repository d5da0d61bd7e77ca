// Package usercache remembers the Entra users phoneop resolved, per tenant, for a bounded time
// and in bounded memory: grants are judged on what Graph said about a user at most one TTL ago
// (a rename out of allowedDomains counts within it), and a namespace naming ever more users
// cannot grow the manager without bound.
package usercache

import (
	"strings"
	"sync"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
)

// defaultMaxCachedUsers bounds the user cache when MaxEntries is zero: two keys (id and UPN)
// for each of about 130,000 users, a few tens of MiB at most.
const defaultMaxCachedUsers = 1 << 18

// Cache remembers users resolved through Graph, per tenant, so that a reconcile does not
// look its user up every pass. Entries expire after TTL, so that grants are judged on what
// Graph says about the user now (a rename out of allowedDomains, or into deniedUsers, counts
// within a TTL), and the cache holds at most MaxEntries keys, so a namespace naming ever more
// users cannot grow it without bound. Its keys are the user's own id and lower-case UPN
// strings, per tenant, so an entry allocates nothing beyond the user itself.
type Cache struct {
	// TTL is how long a resolved user is trusted; zero trusts it until forgotten.
	TTL time.Duration
	// MaxEntries bounds the keys held (two per user); zero means defaultMaxCachedUsers.
	MaxEntries int
	// FillThreshold is how many user keys a tenant's objects must hold before Fill pages the
	// tenant's directory; zero means DefaultFillThreshold.
	FillThreshold int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.RWMutex
	tenants map[string]map[string]cachedUser // tenant id → lower-case object id or UPN → user
	size    int
	puts    int
	fills   map[string]*fill // tenant id → its directory paging (Fill)
}

type cachedUser struct {
	user graph.User
	at   time.Time
}

// Get returns the cached user for (tenantID, idOrUPN), unless it expired.
func (c *Cache) Get(tenantID, idOrUPN string) (graph.User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.tenants[tenantID][strings.ToLower(idOrUPN)]
	if !ok || c.expired(e, c.now()) {
		return graph.User{}, false
	}
	return e.user, true
}

// Put remembers u under both its object id and its UPN.
func (c *Cache) Put(tenantID string, u graph.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[string]map[string]cachedUser{}
	}
	users := c.tenants[tenantID]
	if users == nil {
		users = map[string]cachedUser{}
		c.tenants[tenantID] = users
	}
	e := cachedUser{user: u, at: c.now()}
	c.setLocked(users, strings.ToLower(u.ID), e)
	if u.UserPrincipalName != "" {
		c.setLocked(users, strings.ToLower(u.UserPrincipalName), e)
	}
	if c.puts++; c.puts%1024 == 0 || c.size > c.maxEntries() {
		c.shrinkLocked()
	}
}

// Forget drops a user under both its keys, e.g. after Graph said it no longer exists.
func (c *Cache) Forget(tenantID, idOrUPN string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	users := c.tenants[tenantID]
	key := strings.ToLower(idOrUPN)
	if e, ok := users[key]; ok {
		c.deleteLocked(tenantID, strings.ToLower(e.user.ID))
		c.deleteLocked(tenantID, strings.ToLower(e.user.UserPrincipalName))
	}
	c.deleteLocked(tenantID, key)
}

func (c *Cache) setLocked(users map[string]cachedUser, key string, e cachedUser) {
	if _, ok := users[key]; !ok {
		c.size++
	}
	users[key] = e
}

func (c *Cache) deleteLocked(tenantID, key string) {
	users := c.tenants[tenantID]
	if _, ok := users[key]; ok {
		delete(users, key)
		c.size--
	}
	if len(users) == 0 {
		delete(c.tenants, tenantID)
	}
}

// shrinkLocked drops expired entries and, when the cache is still over its bound, any entries
// until it is down to three quarters of it, so that a full cache sweeps once per many puts (a
// dropped entry costs one user lookup, never a wrong answer).
func (c *Cache) shrinkLocked() {
	now := c.now()
	c.dropWhere(func(e cachedUser) bool { return c.expired(e, now) })
	if target := c.maxEntries() * 3 / 4; c.size > c.maxEntries() {
		c.dropWhere(func(cachedUser) bool { return c.size > target })
	}
}

// dropWhere drops the users for which drop says so, each under both its keys: a user left
// under one key only could not be forgotten by the other (Forget by UPN would miss the id).
func (c *Cache) dropWhere(drop func(cachedUser) bool) {
	for tenantID, users := range c.tenants {
		for key, e := range users {
			if drop(e) {
				c.deleteLocked(tenantID, key)
				c.deleteLocked(tenantID, strings.ToLower(e.user.ID))
				c.deleteLocked(tenantID, strings.ToLower(e.user.UserPrincipalName))
			}
		}
	}
}

func (c *Cache) expired(e cachedUser, now time.Time) bool {
	return c.TTL > 0 && now.Sub(e.at) >= c.TTL
}

func (c *Cache) maxEntries() int {
	if c.MaxEntries > 0 {
		return c.MaxEntries
	}
	return defaultMaxCachedUsers
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
