package controllers

import (
	"strings"
	"sync"

	"github.com/phoneop/phoneop/internal/graph"
)

// UserCache remembers users resolved through Graph, per tenant, so that a steady state costs
// no user lookups and an object-id user's UPN (needed for the domain scope) is read once per
// process. Bounded by the number of managed users. Its keys are the user's own id and
// lower-case UPN strings, per tenant, so an entry allocates nothing beyond the user itself (a
// key of tenant id + "/" + user was two more strings per user).
type UserCache struct {
	mu      sync.RWMutex
	tenants map[string]map[string]graph.User // tenant id → lower-case object id or UPN → user
}

// Get returns the cached user for (tenantID, idOrUPN).
func (c *UserCache) Get(tenantID, idOrUPN string) (graph.User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.tenants[tenantID][strings.ToLower(idOrUPN)]
	return u, ok
}

// Put remembers u under both its object id and its UPN.
func (c *UserCache) Put(tenantID string, u graph.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[string]map[string]graph.User{}
	}
	users := c.tenants[tenantID]
	if users == nil {
		users = map[string]graph.User{}
		c.tenants[tenantID] = users
	}
	users[strings.ToLower(u.ID)] = u
	if u.UserPrincipalName != "" {
		users[strings.ToLower(u.UserPrincipalName)] = u
	}
}

// Forget drops a user under both its keys, e.g. after Graph said it no longer exists, so that
// a user re-created under the same UPN is looked up again.
func (c *UserCache) Forget(tenantID, idOrUPN string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	users := c.tenants[tenantID]
	key := strings.ToLower(idOrUPN)
	if u, ok := users[key]; ok {
		delete(users, strings.ToLower(u.ID))
		delete(users, strings.ToLower(u.UserPrincipalName))
	}
	delete(users, key)
	if len(users) == 0 {
		delete(c.tenants, tenantID)
	}
}
