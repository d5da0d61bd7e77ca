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
