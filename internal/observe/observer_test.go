package observe

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/methodid"
)

// countingLister answers List with a fixed method and counts calls; release, when set, holds
// every call until closed, so a test can line concurrent callers up behind one flight.
type countingLister struct {
	calls   atomic.Int32
	entered chan struct{} // receives once per call, when set
	release chan struct{}
}

func (l *countingLister) ListPhoneMethods(ctx context.Context, userID string) ([]graph.PhoneMethod, error) {
	l.calls.Add(1)
	if l.entered != nil {
		l.entered <- struct{}{}
	}
	if l.release != nil {
		<-l.release
	}
	return []graph.PhoneMethod{{ID: methodid.Mobile, PhoneType: "mobile"}}, nil
}

// TestObserverSharesOneReadAmongConcurrentCallers runs with the cache off (TTL zero), so the
// only way three concurrent reads of a user can cost one GET is by joining one flight.
func TestObserverSharesOneReadAmongConcurrentCallers(t *testing.T) {
	l := &countingLister{entered: make(chan struct{}, 3), release: make(chan struct{})}
	o := &Observer{TTL: 0}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := o.List(context.Background(), l, "t", "u", false); err != nil {
				t.Error(err)
			}
		}()
	}
	// The flight is held open until one call has reached Graph and all three callers are
	// reading; the other two can only join that flight, as no answer is ever cached.
	<-l.entered
	waitForReaders(t, o, "t/u", 3)
	close(l.release)
	wg.Wait()
	if got := l.calls.Load(); got != 1 {
		t.Errorf("three concurrent reads of one user made %d Graph calls, want 1", got)
	}
}

// waitForReaders polls until n reads of key are in flight.
func waitForReaders(t *testing.T, o *Observer, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		reading := o.reading[key]
		o.mu.Unlock()
		if reading >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reads of %s in flight after 10 s, want %d", reading, key, n)
		}
		runtime.Gosched()
	}
}

func TestObserverCacheExpiresAndIsInvalidatedByWrites(t *testing.T) {
	now := time.Unix(0, 0)
	l := &countingLister{}
	o := &Observer{TTL: 10 * time.Second, Now: func() time.Time { return now }}
	ctx := context.Background()
	read := func() {
		t.Helper()
		if _, err := o.List(ctx, l, "t", "u", false); err != nil {
			t.Fatal(err)
		}
	}
	read()
	read()
	if got := l.calls.Load(); got != 1 {
		t.Fatalf("a read within TTL made a call: %d calls", got)
	}
	o.Invalidate("t", "u")
	read()
	if got := l.calls.Load(); got != 2 {
		t.Fatalf("a read after a write used the cache: %d calls", got)
	}
	now = now.Add(11 * time.Second)
	read()
	if got := l.calls.Load(); got != 3 {
		t.Fatalf("a read after TTL used the cache: %d calls", got)
	}
	if _, err := o.List(ctx, l, "t", "u", true); err != nil {
		t.Fatal(err)
	}
	if got := l.calls.Load(); got != 4 {
		t.Fatalf("a fresh read used the cache: %d calls", got)
	}
}

// oldNumber and newNumber are a phone's number before and after a write.
const (
	oldNumber = "+1 2065550100"
	newNumber = "+1 2065550199"
)

// TestAStaleReadCachedInTheSettleWindowStaysStale: a list read during Graph's read lag
// and cached is still stale when the cache serves it after the settle window has passed.
func TestAStaleReadCachedInTheSettleWindowStaysStale(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	now := t0
	o := &Observer{TTL: 10 * time.Second, Settle: 15 * time.Second, Now: func() time.Time { return now }}
	before := graph.PhoneMethod{ID: methodid.Mobile, PhoneType: "mobile", PhoneNumber: oldNumber, SMSSignInState: "ready"}
	after := graph.PhoneMethod{ID: methodid.Mobile, PhoneType: "mobile", PhoneNumber: newNumber, SMSSignInState: "ready"}
	stale := &countingStaleLister{methods: []graph.PhoneMethod{before}}
	o.RecordWrite("t", "u", "mobile", &before, &after)

	now = t0.Add(9 * time.Second) // the read lags: Graph still shows the old number
	if got, _ := o.List(context.Background(), stale, "t", "u", false); got[0].PhoneNumber != newNumber {
		t.Fatalf("within the window: %s, want the write trusted", got[0].PhoneNumber)
	}
	now = t0.Add(18 * time.Second) // past the window, but the cached read was made within it
	got, _ := o.List(context.Background(), stale, "t", "u", false)
	if stale.calls != 1 {
		t.Fatalf("the second read was not served from the cache (%d Graph reads)", stale.calls)
	}
	if got[0].PhoneNumber != newNumber {
		t.Errorf("a read made during the lag and served after the window: %s, want the write still trusted", got[0].PhoneNumber)
	}
	now = t0.Add(30 * time.Second) // a fresh read after the window is Graph's word
	if got, _ := o.List(context.Background(), stale, "t", "u", false); got[0].PhoneNumber != oldNumber || stale.calls != 2 {
		t.Errorf("after the window a fresh read must count: %s (%d reads)", got[0].PhoneNumber, stale.calls)
	}
}

type countingStaleLister struct {
	methods []graph.PhoneMethod
	calls   int
}

func (l *countingStaleLister) ListPhoneMethods(context.Context, string) ([]graph.PhoneMethod, error) {
	l.calls++
	return l.methods, nil
}
