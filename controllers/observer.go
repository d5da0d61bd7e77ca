package controllers

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/phoneop/phoneop/internal/graph"
)

// phoneMethodLister is the read half of the Graph client the observer needs.
type phoneMethodLister interface {
	ListPhoneMethods(ctx context.Context, userID string) ([]graph.PhoneMethod, error)
}

// Observer reads a user's phone methods once for all the objects of that user: concurrent
// reconciles of a user's mobile, alternateMobile and office objects share one GET
// (single-flight), and reads within TTL of each other share a cached answer. Our own writes
// invalidate the user's entry, so nothing ever plans against a list older than its last write.
type Observer struct {
	// TTL is how long a list answer is reused. Short: it only has to cover the objects of one
	// user that are reconciled together (they share a resync schedule, see resyncAfter).
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	group   singleflight.Group
	mu      sync.Mutex
	entries map[string]observation
	// versions counts invalidations per user, so that a flight started before a write can
	// neither be joined nor cached after it.
	versions map[string]uint64
	inserts  int
}

type observation struct {
	methods []graph.PhoneMethod
	at      time.Time
}

// List returns the user's phone methods. fresh skips the cache (not an in-flight read started
// after the last invalidation): a forced resync, or a re-read after an ambiguous write.
func (o *Observer) List(ctx context.Context, c phoneMethodLister, tenantID, userID string, fresh bool) ([]graph.PhoneMethod, error) {
	key := tenantID + "/" + userID
	o.mu.Lock()
	o.init()
	version := o.versions[key]
	if e, ok := o.entries[key]; ok && !fresh && o.now().Sub(e.at) < o.TTL {
		o.mu.Unlock()
		return e.methods, nil
	}
	o.mu.Unlock()

	flight := key + "#" + strconv.FormatUint(version, 10)
	v, err, _ := o.group.Do(flight, func() (any, error) {
		methods, err := c.ListPhoneMethods(ctx, userID)
		if err == nil {
			o.store(key, version, methods)
		}
		return methods, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]graph.PhoneMethod), nil
}

// Invalidate drops the user's cached list; call it after every write to the user's methods.
func (o *Observer) Invalidate(tenantID, userID string) {
	key := tenantID + "/" + userID
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	o.versions[key]++
	delete(o.entries, key)
}

func (o *Observer) store(key string, version uint64, methods []graph.PhoneMethod) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.versions[key] != version {
		return // a write happened while this read was in flight: its answer may be stale
	}
	o.entries[key] = observation{methods: methods, at: o.now()}
	o.inserts++
	if o.inserts%1024 == 0 {
		o.sweep()
	}
}

// sweep drops expired entries so that memory follows the number of recently read users, not
// every user ever read. Versions stay (a counter per user): dropping one could let a flight
// that started before a write store its stale answer.
func (o *Observer) sweep() {
	now := o.now()
	for k, e := range o.entries {
		if now.Sub(e.at) >= o.TTL {
			delete(o.entries, k)
		}
	}
}

func (o *Observer) init() {
	if o.entries == nil {
		o.entries = map[string]observation{}
		o.versions = map[string]uint64{}
	}
}

func (o *Observer) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}
