package graphtest

import (
	"context"
	"sync"
	"time"
)

// FakeClock is a manual clock: time moves only when Step is called. Tests
// use AwaitWaiters to know that goroutines are blocked on it, which makes
// "these callers are paused" an observable fact instead of a timing guess.
// It satisfies graph.Clock.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type fakeWaiter struct {
	until time.Time
	ch    chan time.Time
}

// NewFakeClock starts at a fixed instant, so tests never depend on the wall
// clock.
func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns a channel that fires once Step has moved time past d.
func (f *FakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, fakeWaiter{until: f.now.Add(d), ch: ch})
	f.notifyLocked()
	return ch
}

// Step moves time forward and fires every waiter that is due.
func (f *FakeClock) Step(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.until.After(f.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- f.now
	}
	f.waiters = kept
	f.notifyLocked()
}

// Waiters is the number of pending After channels.
func (f *FakeClock) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// AwaitWaiters blocks until at least n After channels are pending, or ctx
// ends. It wakes on every change instead of polling.
func (f *FakeClock) AwaitWaiters(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		have, changed := len(f.waiters), f.changed
		f.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (f *FakeClock) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// VirtualClock is a clock whose time jumps forward by exactly the duration
// anyone waits for, immediately. Retry and backoff code runs at full speed
// and the test can read back every wait it asked for.
type VirtualClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// NewVirtualClock starts at a fixed instant.
func NewVirtualClock() *VirtualClock {
	return &VirtualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the virtual time.
func (v *VirtualClock) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// After advances time by d and returns a channel that has already fired.
func (v *VirtualClock) After(d time.Duration) <-chan time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d > 0 {
		v.now = v.now.Add(d)
		v.waits = append(v.waits, d)
	}
	ch := make(chan time.Time, 1)
	ch <- v.now
	return ch
}

// Waits returns every positive wait so far, in order.
func (v *VirtualClock) Waits() []time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]time.Duration(nil), v.waits...)
}
