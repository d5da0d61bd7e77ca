package controllers

import (
	"sync"

	"github.com/phoneop/phoneop/internal/graph"
)

// UserCache remembers users resolved through Graph, per tenant, so that a steady state costs
// no user lookups and an object-id user's UPN (needed for the domain scope) is read once per
// process. Bounded by the number of managed users.
type UserCache struct {
	mu    sync.RWMutex
	users map[string]graph.User
}

// Get returns the cached user for (tenantID, idOrUPN).
func (c *UserCache) Get(tenantID, idOrUPN string) (graph.User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.users[userKey(tenantID, idOrUPN)]
	return u, ok
}

// Put remembers u under both its object id and its UPN.
func (c *UserCache) Put(tenantID string, u graph.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil {
		c.users = map[string]graph.User{}
	}
	c.users[userKey(tenantID, u.ID)] = u
	if u.UserPrincipalName != "" {
		c.users[userKey(tenantID, u.UserPrincipalName)] = u
	}
}

// Forget drops a user under both its keys, e.g. after Graph said it no longer exists, so that
// a user re-created under the same UPN is looked up again.
func (c *UserCache) Forget(tenantID, idOrUPN string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.users[userKey(tenantID, idOrUPN)]; ok {
		delete(c.users, userKey(tenantID, u.ID))
		delete(c.users, userKey(tenantID, u.UserPrincipalName))
	}
	delete(c.users, userKey(tenantID, idOrUPN))
}
