package observe

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/phoneop/phoneop/internal/graph"
)

// PhoneMethodLister is the read half of the Graph client the observer needs.
type PhoneMethodLister interface {
	ListPhoneMethods(ctx context.Context, userID string) ([]graph.PhoneMethod, error)
}

// Observer reads a user's phone methods once for all the objects of that user: concurrent
// reconciles of a user's mobile, alternateMobile and office objects share one GET
// (single-flight), and reads within TTL of each other share a cached answer. Our own writes
// invalidate the user's entry, so nothing ever plans against a list older than its last write.
type Observer struct {
	// TTL is how long a list answer is reused. Short: it only has to cover the objects of one
	// user that are reconciled together (they share a resync schedule, see schedule.After).
	TTL time.Duration
	// Settle is how long phoneop trusts a write Graph accepted over a read that still shows the
	// state before it: Graph's reads lag its writes by seconds (callers wait 5-10 s before
	// re-listing), and planning against a stale read would repeat the write. Zero trusts no
	// write.
	Settle time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	group   singleflight.Group
	mu      sync.Mutex
	entries map[string]observation
	// versions counts invalidations per user, so that a flight started before a write can
	// neither be joined nor cached after it; reading counts the reads in flight per user, so
	// that sweep can drop the version of a user nobody is reading (no flight can carry it).
	versions map[string]uint64
	reading  map[string]int
	// unsettled holds, per user and phone type, the writes that reads may not show yet.
	unsettled map[string]map[string]unsettledWrite
	inserts   int
}

// unsettledWrite is a write Graph accepted: the method before and after it (nil: absent),
// trusted over a read that still shows before, until the deadline.
type unsettledWrite struct {
	before, after *graph.PhoneMethod
	until         time.Time
}

type observation struct {
	methods []graph.PhoneMethod
	at      time.Time
}

// List returns the user's phone methods. fresh skips the cache (not an in-flight read started
// after the last invalidation): a forced resync, or a re-read after an ambiguous write.
func (o *Observer) List(ctx context.Context, c PhoneMethodLister, tenantID, userID string, fresh bool) ([]graph.PhoneMethod, error) {
	key := tenantID + "/" + userID
	o.mu.Lock()
	o.init()
	version := o.versions[key]
	if e, ok := o.entries[key]; ok && !fresh && o.now().Sub(e.at) < o.TTL {
		o.mu.Unlock()
		return o.withUnsettled(key, e.methods, e.at), nil
	}
	o.reading[key]++
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		if o.reading[key]--; o.reading[key] <= 0 {
			delete(o.reading, key)
		}
		o.mu.Unlock()
	}()

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
	return o.withUnsettled(key, v.([]graph.PhoneMethod), o.now()), nil
}

// RecordWrite remembers a write Graph accepted for the user's method of phoneType, from before
// to after (nil: absent), so that reads within Settle that still show before are answered with
// after, and invalidates the user's cached list.
func (o *Observer) RecordWrite(tenantID, userID, phoneType string, before, after *graph.PhoneMethod) {
	o.Invalidate(tenantID, userID)
	if o.Settle <= 0 {
		return
	}
	key := tenantID + "/" + userID
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unsettled[key] == nil {
		o.unsettled[key] = map[string]unsettledWrite{}
	}
	o.unsettled[key][phoneType] = unsettledWrite{before: before, after: after, until: o.now().Add(o.Settle)}
}

// withUnsettled overlays the user's unsettled writes on a read made at readAt: a method that,
// within Settle of our write, still looks as it did before the write is shown as the write left
// it. What counts is when the read was made, not when it is served: a stale read cached during
// the window stays stale when the cache hands it out after the window. A read showing anything
// else (the write, or a newer change by someone else), or made after the window, settles the
// write: from then on Graph's answer counts.
func (o *Observer) withUnsettled(key string, read []graph.PhoneMethod, readAt time.Time) []graph.PhoneMethod {
	o.mu.Lock()
	defer o.mu.Unlock()
	writes := o.unsettled[key]
	if len(writes) == 0 {
		return read
	}
	out := read
	for phoneType, w := range writes {
		current := MethodOfType(read, phoneType)
		if readAt.After(w.until) || !sameMethod(current, w.before) {
			delete(writes, phoneType)
			continue
		}
		out = WithoutType(out, phoneType)
		if w.after != nil {
			out = append(out, *w.after)
		}
	}
	if len(writes) == 0 {
		delete(o.unsettled, key)
	}
	return out
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
// every user ever read. A user's version goes too when no read of the user is in flight: only
// a flight that started before a write could store a stale answer, and a later flight starts
// from version 0 under a singleflight key no earlier flight holds. Keeping a version for every
// user ever written would cost megabytes in a large tenant (2.5 MiB at 10,000 users).
func (o *Observer) sweep() {
	now := o.now()
	for k, e := range o.entries {
		if now.Sub(e.at) >= o.TTL {
			delete(o.entries, k)
		}
	}
	for k := range o.versions {
		if _, cached := o.entries[k]; !cached && o.reading[k] == 0 {
			delete(o.versions, k)
		}
	}
	for k, writes := range o.unsettled {
		for phoneType, w := range writes {
			if now.Sub(w.until) >= o.TTL { // no read made in its window can still be served
				delete(writes, phoneType)
			}
		}
		if len(writes) == 0 {
			delete(o.unsettled, k)
		}
	}
}

func (o *Observer) init() {
	if o.entries == nil {
		o.entries = map[string]observation{}
		o.versions = map[string]uint64{}
		o.reading = map[string]int{}
		o.unsettled = map[string]map[string]unsettledWrite{}
	}
}

func (o *Observer) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}
