package controllers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
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
	return []graph.PhoneMethod{{ID: graph.MobileMethodID, PhoneType: "mobile"}}, nil
}

func TestObserverSharesOneReadAmongConcurrentCallers(t *testing.T) {
	l := &countingLister{entered: make(chan struct{}, 3), release: make(chan struct{})}
	o := &Observer{TTL: time.Minute}
	var wg sync.WaitGroup
	started := make(chan struct{}, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			if _, err := o.List(context.Background(), l, "t", "u", false); err != nil {
				t.Error(err)
			}
		}()
	}
	for range 3 {
		<-started
	}
	// The flight is held open until one call has reached Graph; the others either join it or
	// find its cached answer, and never start a second GET.
	<-l.entered
	close(l.release)
	wg.Wait()
	if got := l.calls.Load(); got != 1 {
		t.Errorf("three concurrent reads of one user made %d Graph calls, want 1", got)
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

func TestResyncAfter(t *testing.T) {
	period := 30 * time.Minute
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	a1 := resyncAfter("tenant/user-a", period, now)
	a2 := resyncAfter("tenant/user-a", period, now.Add(3*time.Second))
	if a1-a2 != 3*time.Second && a1+period-a2 != 3*time.Second {
		t.Errorf("objects of one user must come due at the same instant: %v then %v", a1, a2)
	}
	for _, key := range []string{"tenant/user-a", "tenant/user-b", "other/user-a"} {
		if d := resyncAfter(key, period, now); d <= time.Second || d > period*12/10+time.Second {
			t.Errorf("resyncAfter(%q) = %v, want within (1s, 1.2 × period]", key, d)
		}
	}
	// Following one user through many cycles: each interval is the period ±10 % per end (so
	// within 0.8–1.2 periods), and the jitter really varies.
	at, intervals := now, map[time.Duration]bool{}
	prev := at.Add(resyncAfter("tenant/user-a", period, at))
	for range 50 {
		next := prev.Add(resyncAfter("tenant/user-a", period, prev))
		d := next.Sub(prev)
		if d < period*8/10 || d > period*12/10 {
			t.Fatalf("interval %v outside 0.8–1.2 × %v", d, period)
		}
		intervals[d] = true
		prev = next
	}
	if len(intervals) < 10 {
		t.Errorf("only %d distinct intervals in 50 cycles: the resync is not jittered", len(intervals))
	}
	// Users spread over the period rather than bunching at one instant.
	seen := map[time.Duration]bool{}
	for i := range 100 {
		seen[resyncAfter("tenant/user-"+string(rune('a'+i%26))+string(rune('a'+i/26)), period, now).Truncate(time.Minute)] = true
	}
	if len(seen) < 15 {
		t.Errorf("100 users fall into only %d distinct minutes of a 30-minute period", len(seen))
	}
	if d := resyncAfter("x", 0, now); d != 0 {
		t.Errorf("a zero period must disable resync, got %v", d)
	}
}
