package budget

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Pool is one cap of a tenant's change budget.
type Pool string

const (
	// Destructive: number changes, deletes, and SMS sign-in changes of phones that existed.
	Destructive Pool = "destructive"
	// Creates: new phones for users who had none of that type.
	Creates Pool = "creates"
)

// Pools is every pool, in the order metrics list them.
var Pools = []Pool{Destructive, Creates}

// Lease layout: one Lease per tenant id in the manager's namespace, each pool's window in an
// annotation (window.String).
const (
	leasePrefix       = "phoneop-budget-"
	annotationPrefix  = "budget.phoneop.dev/"
	labelManagedBy    = "app.kubernetes.io/managed-by"
	managedByPhoneop  = "phoneop"
	maxWriteConflicts = 8
	// wakeJitter spreads the wake of a waiter after a refund, and the return of waiters whose
	// slot frees with time, so that waiters of several replicas do not arrive at one instant.
	wakeJitter = 2 * time.Second
	// staleAfter is how old this process's copy of a Lease may be before a check or a scrape
	// reads it again (a take never trusts it: the write's resourceVersion does).
	staleAfter = 15 * time.Second
)

// Token is a taken slot of a pool; Refund gives it back. The zero Token was never taken.
type Token struct {
	tenant string // lower-case tenant id
	pool   Pool
	at     int64 // the second it is recorded under
	by     types.NamespacedName
	block  uint64 // the block it came from (0: none), so that a refund can go back to it
}

// Taken reports whether the token holds a slot.
func (t Token) Taken() bool { return t.tenant != "" }

// Ledger is the change budget, persisted in one coordination.k8s.io Lease per tenant id in the
// manager's namespace; see the package doc for why a Lease.
type Ledger struct {
	// Client writes the Leases (Create, Update); Reader reads them uncached (the manager's API
	// reader: a cached read would start a cluster-wide Lease informer).
	Client client.Writer
	Reader client.Reader
	// Namespace is the manager's namespace, where the Leases live.
	Namespace string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Jitter returns a random duration in [0, d); nil means math/rand. Tests make it zero.
	Jitter func(d time.Duration) time.Duration
	// Wake, when set, requeues a waiting object: the head of the line when a token is
	// refunded. It is called after a short jitter, from a timer goroutine.
	Wake func(key types.NamespacedName)

	mu      sync.Mutex
	tenants map[string]*tenantLedger
	waiting map[types.NamespacedName]*tenantLedger // who stands in some line, so Forget is cheap
}

// tenantLedger is this process's view of one tenant's Lease and its lines of waiters.
type tenantLedger struct {
	mu      sync.Mutex // serialises this process's reads and writes of the Lease
	lease   *coordinationv1.Lease
	fetched time.Time
	lines   map[Pool]waitlist
	// blocks are the tokens this process reserved in the Lease and hands out itself (block.go);
	// lastBlock numbers them.
	blocks    map[Pool]*block
	lastBlock uint64
}

// Take reserves one token of the tenant's pool under limit for the object key, persisted in the
// Lease before it returns: the Graph write may be sent once Take said yes. A pool with a large
// cap (blockSize) persists a block of tokens with one write and hands the rest out from it
// without writing, until the block is used up or expires. When none is free
// for key (the pool is used up, or waiters stand before it), it returns the wait until the
// slot of key's place in line frees, with jitter, and keeps key's place.
func (l *Ledger) Take(ctx context.Context, tenantID string, pool Pool, limit int, key types.NamespacedName) (Token, time.Duration, error) {
	t := l.tenant(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	for range maxWriteConflicts {
		lease, err := l.current(ctx, t, tenantID, 0)
		if err != nil {
			return Token{}, 0, err
		}
		now := l.now()
		w, err := windowOf(lease, pool)
		if err != nil {
			return Token{}, 0, err
		}
		w = w.prune(now)
		b := t.blocks[pool]
		seen := b.seenBy(w)
		line := t.lines[pool].prune(now)
		ahead := line.ahead(key)
		if seen.free(limit) <= ahead {
			wait := l.queue(t, pool, line, key, seen, limit, ahead, now)
			return Token{}, wait, nil
		}
		tok := Token{tenant: strings.ToLower(tenantID), pool: pool, by: key}
		if b.live(now) && b.left > 0 {
			b.left-- // already persisted as spent: no write
			tok.at, tok.block = b.at, b.id
			l.granted(t, pool, line, key)
			return tok, 0, nil
		}
		// Reserve a new block; the write also gives back what an expired block left unspent.
		n := min(blockSize(pool, limit), seen.free(limit))
		next, at := seen.takeN(now, resolutionOf(pool), n)
		updated, err := l.write(ctx, lease, pool, next, now)
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			t.lease = nil // another replica or shard wrote first: read theirs and count again
			continue
		}
		if err != nil {
			return Token{}, 0, err
		}
		t.lease, t.fetched = updated, now
		t.blocks[pool] = nil
		tok.at = at
		if n > 1 {
			t.lastBlock++
			t.blocks[pool] = newBlock(t.lastBlock, at, n, now)
			tok.block = t.lastBlock
		}
		l.granted(t, pool, line, key)
		return tok, 0, nil
	}
	return Token{}, 0, fmt.Errorf("the change budget Lease of tenant %s kept changing under %d attempts to write it", tenantID, maxWriteConflicts)
}

// Check reports, without taking anything, whether key would get a token of the pool now; when
// not, how long to wait (as Take). It reads the Lease only when this process's copy is older
// than a few seconds, so a waiting object costs no API call per retry.
func (l *Ledger) Check(ctx context.Context, tenantID string, pool Pool, limit int, key types.NamespacedName) (bool, time.Duration, error) {
	t := l.tenant(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	lease, err := l.current(ctx, t, tenantID, staleAfter)
	if err != nil {
		return false, 0, err
	}
	now := l.now()
	w, err := windowOf(lease, pool)
	if err != nil {
		return false, 0, err
	}
	w = t.blocks[pool].seenBy(w.prune(now))
	line := t.lines[pool].prune(now)
	if ahead := line.ahead(key); w.free(limit) <= ahead {
		return false, l.queue(t, pool, line, key, w, limit, ahead, now), nil
	}
	t.lines[pool] = line
	return true, 0, nil
}

// Refund gives a token back (a write Graph refused, or that never reached Graph), and wakes
// the first other waiter of its pool. A token of a block that is still live goes back to the
// block, without a write; any other to the Lease, at the second it was recorded under.
func (l *Ledger) Refund(ctx context.Context, tok Token) error {
	if !tok.Taken() {
		return nil
	}
	t := l.tenant(tok.tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.blocks[tok.pool]; tok.block != 0 && b.live(l.now()) && b.id == tok.block {
		b.left++
		l.wakeFirst(t, tok.pool, tok.by, l.now())
		return nil
	}
	for range maxWriteConflicts {
		lease, err := l.current(ctx, t, tok.tenant, 0)
		if err != nil {
			return err
		}
		now := l.now()
		w, err := windowOf(lease, tok.pool)
		if err != nil {
			return err
		}
		b := t.blocks[tok.pool]
		if b.live(now) {
			b = nil // its tokens stay this process's to hand out
		}
		// An expired block's unspent tokens go back with the same write.
		w = b.seenBy(w.prune(now)).refund(tok.at)
		updated, err := l.write(ctx, lease, tok.pool, w, now)
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			t.lease = nil
			continue
		}
		if err != nil {
			return err
		}
		t.lease, t.fetched = updated, now
		if b != nil {
			t.blocks[tok.pool] = nil
		}
		l.wakeFirst(t, tok.pool, tok.by, now)
		return nil
	}
	return fmt.Errorf("the change budget Lease of tenant %s kept changing under %d attempts to refund a token", tok.tenant, maxWriteConflicts)
}

// Remaining returns how many tokens of the pool the tenant may still take in the window (for
// the metrics), as this process sees it: the unspent tokens of its own block count as free,
// those of other processes' blocks as spent.
func (l *Ledger) Remaining(ctx context.Context, tenantID string, pool Pool, limit int) (int, error) {
	t := l.tenant(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	lease, err := l.current(ctx, t, tenantID, staleAfter)
	if err != nil {
		return 0, err
	}
	w, err := windowOf(lease, pool)
	if err != nil {
		return 0, err
	}
	return t.blocks[pool].seenBy(w.prune(l.now())).free(limit), nil
}

// Release gives back to the Lease the tokens of this process's blocks that no write used, so
// that a process that stops loses none of the budget. Called when the manager stops; a crash
// loses at most one block per tenant (blockSize), counted as spent until it leaves the hour.
func (l *Ledger) Release(ctx context.Context) error {
	l.mu.Lock()
	tenants := make(map[string]*tenantLedger, len(l.tenants))
	for id, t := range l.tenants {
		tenants[id] = t
	}
	l.mu.Unlock()
	var errs []error
	for id, t := range tenants {
		for _, pool := range Pools {
			if err := l.release(ctx, t, id, pool); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// releaseTimeout bounds the give-back of blocks when the manager stops.
const releaseTimeout = 10 * time.Second

// Start implements manager.Runnable: it waits for the manager to stop, then gives back this
// process's unspent block tokens (Release).
func (l *Ledger) Start(ctx context.Context) error {
	<-ctx.Done()
	stopping, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := l.Release(stopping); err != nil {
		// What could not be given back stays spent until it leaves the hour: at most one
		// block per tenant.
		log.FromContext(ctx).Error(err, "giving back the change budget's unspent block tokens")
	}
	return nil
}

// NeedLeaderElection is false: a standby or a shard holds blocks too.
func (l *Ledger) NeedLeaderElection() bool { return false }

// release gives back the unspent tokens of the tenant's block of the pool, if any.
func (l *Ledger) release(ctx context.Context, t *tenantLedger, tenantID string, pool Pool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for range maxWriteConflicts {
		b := t.blocks[pool]
		if b.unspent() == 0 {
			return nil
		}
		lease, err := l.current(ctx, t, tenantID, 0)
		if err != nil {
			return err
		}
		now := l.now()
		w, err := windowOf(lease, pool)
		if err != nil {
			return err
		}
		updated, err := l.write(ctx, lease, pool, b.seenBy(w.prune(now)), now)
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			t.lease = nil
			continue
		}
		if err != nil {
			return err
		}
		t.lease, t.fetched = updated, now
		t.blocks[pool] = nil
		return nil
	}
	return fmt.Errorf("the change budget Lease of tenant %s kept changing under %d attempts to give back a block", tenantID, maxWriteConflicts)
}

// Forget drops key from every line (the object converged, is gone, or stopped for another
// reason). It costs nothing for an object that was not waiting.
func (l *Ledger) Forget(key types.NamespacedName) {
	l.mu.Lock()
	t, ok := l.waiting[key]
	delete(l.waiting, key)
	l.mu.Unlock()
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for p, line := range t.lines {
		t.lines[p] = line.leave(key)
	}
}

// setWaiting records that key stands in one of t's lines (nil: in none). Called with t.mu held.
func (l *Ledger) setWaiting(key types.NamespacedName, t *tenantLedger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t == nil {
		delete(l.waiting, key)
		return
	}
	if l.waiting == nil {
		l.waiting = map[types.NamespacedName]*tenantLedger{}
	}
	l.waiting[key] = t
}

// granted takes key out of the pool's line: it got its token.
func (l *Ledger) granted(t *tenantLedger, pool Pool, line waitlist, key types.NamespacedName) {
	t.lines[pool] = line.leave(key)
	l.setWaiting(key, nil)
}

// queue keeps key's place in the pool's line and returns its wait, with jitter.
func (l *Ledger) queue(t *tenantLedger, pool Pool, line waitlist, key types.NamespacedName, w window, limit, ahead int, now time.Time) time.Duration {
	wait := w.waitFor(limit, ahead, now) + l.jitter(wakeJitter)
	t.lines[pool] = line.wait(key, now.Add(wait+waitGrace))
	l.setWaiting(key, t)
	return wait
}

// wakeFirst wakes the first waiter of the pool other than by, after a jitter.
func (l *Ledger) wakeFirst(t *tenantLedger, pool Pool, by types.NamespacedName, now time.Time) {
	line := t.lines[pool].prune(now)
	t.lines[pool] = line
	key, ok := line.first(by)
	if !ok || l.Wake == nil {
		return
	}
	time.AfterFunc(l.jitter(wakeJitter), func() { l.Wake(key) })
}

// current returns the tenant's Lease: this process's copy when it is younger than maxAge
// (0: any copy; the write's resourceVersion catches a stale one), else read from the API
// server; a Lease that does not exist yet is an empty one, created by the first write.
func (l *Ledger) current(ctx context.Context, t *tenantLedger, tenantID string, maxAge time.Duration) (*coordinationv1.Lease, error) {
	if t.lease != nil && (maxAge == 0 || l.now().Sub(t.fetched) < maxAge) {
		return t.lease, nil
	}
	lease := &coordinationv1.Lease{}
	err := l.Reader.Get(ctx, client.ObjectKey{Namespace: l.Namespace, Name: LeaseName(tenantID)}, lease)
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: l.Namespace, Name: LeaseName(tenantID),
			Labels: map[string]string{labelManagedBy: managedByPhoneop}}}
	} else if err != nil {
		return nil, fmt.Errorf("reading the change budget Lease of tenant %s: %w", tenantID, err)
	}
	t.lease, t.fetched = lease, l.now()
	return lease, nil
}

// write stores the pool's window in a copy of lease (pruning the other pools too) and writes
// it: Create for a Lease never written, else Update with the resourceVersion read, so that a
// concurrent writer's change is never overwritten.
func (l *Ledger) write(ctx context.Context, lease *coordinationv1.Lease, pool Pool, w window, now time.Time) (*coordinationv1.Lease, error) {
	next := lease.DeepCopy()
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	for _, p := range Pools {
		if p == pool {
			continue
		}
		if other, err := windowOf(lease, p); err == nil {
			next.Annotations[annotationPrefix+string(p)] = other.prune(now).String()
		}
	}
	next.Annotations[annotationPrefix+string(pool)] = w.String()
	if next.ResourceVersion == "" {
		return next, l.Client.Create(ctx, next)
	}
	return next, l.Client.Update(ctx, next)
}

// windowOf reads a pool's window from the Lease.
func windowOf(lease *coordinationv1.Lease, pool Pool) (window, error) {
	return parseWindow(lease.Annotations[annotationPrefix+string(pool)])
}

// resolutionOf is the slot size of a pool's window, in seconds: a second for destructive
// writes (a small cap, waits told to the second), a minute for creates (a large cap at Graph's
// write rate: 60 slots an hour keep each Lease write small).
func resolutionOf(pool Pool) int64 {
	if pool == Creates {
		return 60
	}
	return 1
}

// LeaseName is the name of the tenant's change budget Lease.
func LeaseName(tenantID string) string { return leasePrefix + strings.ToLower(tenantID) }

func (l *Ledger) tenant(tenantID string) *tenantLedger {
	key := strings.ToLower(tenantID)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tenants == nil {
		l.tenants = map[string]*tenantLedger{}
	}
	t, ok := l.tenants[key]
	if !ok {
		t = &tenantLedger{lines: map[Pool]waitlist{}, blocks: map[Pool]*block{}}
		l.tenants[key] = t
	}
	return t
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Ledger) jitter(d time.Duration) time.Duration {
	if l.Jitter != nil {
		return l.Jitter(d)
	}
	return rand.N(d)
}

// Source returns the controller source through which a refunded token wakes the head of the
// line (it sets Wake). A wake that finds the channel full is dropped: the waiter's own requeue
// still brings it back.
func (l *Ledger) Source() source.Source {
	ch := make(chan event.TypedGenericEvent[types.NamespacedName], 256)
	l.Wake = func(key types.NamespacedName) {
		select {
		case ch <- event.TypedGenericEvent[types.NamespacedName]{Object: key}:
		default:
		}
	}
	return source.TypedChannel[types.NamespacedName, reconcile.Request](ch, handler.TypedFuncs[types.NamespacedName, reconcile.Request]{
		GenericFunc: func(_ context.Context, e event.TypedGenericEvent[types.NamespacedName], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(reconcile.Request{NamespacedName: e.Object})
		},
	})
}
