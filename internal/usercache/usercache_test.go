package usercache

import (
	"fmt"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
)

// TestUserCacheExpiresAndStaysBounded: a resolved user is trusted for TTL only (grants are
// judged on what Graph says now), under both its keys, and the cache never holds more than its
// bound however many users are named.
func TestUserCacheExpiresAndStaysBounded(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := &Cache{TTL: 30 * time.Minute, MaxEntries: 100, Now: func() time.Time { return now }}
	kim := graph.User{ID: "KIM-ID", UserPrincipalName: "Kim@Contoso.com"}
	c.Put("t", kim)
	for _, key := range []string{"kim-id", "kim@contoso.com"} {
		if got, ok := c.Get("t", key); !ok || got != kim {
			t.Errorf("Get(%q) = %+v, %v; want kim", key, got, ok)
		}
	}
	if _, ok := c.Get("other-tenant", "kim-id"); ok {
		t.Error("a user of one tenant was found in another")
	}
	now = now.Add(30 * time.Minute)
	if _, ok := c.Get("t", "kim@contoso.com"); ok {
		t.Error("a user resolved a TTL ago is still trusted")
	}

	for i := range 1000 {
		c.Put("t", graph.User{ID: fmt.Sprintf("id-%d", i), UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i)})
		if c.size > 100+2 {
			t.Fatalf("after %d users the cache holds %d keys, bound 100", i+1, c.size)
		}
	}
	// Eviction drops whole users: every cached user is there under both its keys.
	for i := range 1000 {
		_, byID := c.Get("t", fmt.Sprintf("id-%d", i))
		_, byUPN := c.Get("t", fmt.Sprintf("u%d@contoso.com", i))
		if byID != byUPN {
			t.Fatalf("user %d is cached under one key only (id %v, UPN %v)", i, byID, byUPN)
		}
	}
	c.Forget("t", "u999@contoso.com")
	if _, ok := c.Get("t", "id-999"); ok {
		t.Error("Forget by UPN left the id key")
	}
}
