package graph

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// delayOf reserves one token at now and returns how long it would wait.
func delayOf(a *adaptiveRate, now time.Time) time.Duration {
	return a.reserve(now).DelayFrom(now)
}

func TestAdaptiveRateStartsWithGraphsFullBucket(t *testing.T) {
	a := newAdaptiveRate(t0, documentedWriteRate, documentedWriteBucket, 40, 3000)
	for i := range documentedWriteBucket {
		if d := delayOf(a, t0); d != 0 {
			t.Fatalf("write %d of the documented bucket waited %s; Graph's bucket starts full", i+1, d)
		}
	}
	if d := delayOf(a, t0); d != 50*time.Millisecond {
		t.Errorf("the first write past the bucket waits %s, want 1/20 s (the documented refill)", d)
	}
	if r := a.current(); r != documentedWriteRate {
		t.Errorf("starting rate = %v, want Graph's documented %v", r, documentedWriteRate)
	}
	capped := newAdaptiveRate(t0, documentedWriteRate, documentedWriteBucket, 5, 10)
	if r := capped.current(); r != 5 || capped.lim.Burst() != 10 {
		t.Errorf("the flags cap the start: rate %v burst %d, want 5 and 10", r, capped.lim.Burst())
	}
}

func TestAdaptiveRateSteering(t *testing.T) {
	type step struct {
		after  time.Duration // since the previous step
		signal throttleSignal
		want   float64 // rate after the step
	}
	cases := map[string][]step{
		"a 429 lowers the rate multiplicatively, once per burst of 429s": {
			{time.Second, signalThrottled, 14}, {10 * time.Millisecond, signalThrottled, 14}, {10 * time.Millisecond, signalThrottled, 14},
			{time.Second, signalThrottled, 9.8},
		},
		"clean answers raise it additively, once per interval, up to the cap": {
			{time.Second, signalClean, 20.8}, {100 * time.Millisecond, signalClean, 20.8}, {time.Second, signalClean, 21.6},
		},
		"usage near the limit lowers it gently; usage approaching it holds it": {
			{time.Second, signalNearLimit, 19}, {time.Second, signalHold, 19}, {time.Second, signalHold, 19},
		},
		"the floor: throttling slows a tenant down, never stops it": {
			{time.Second, signalThrottled, 14}, {time.Second, signalThrottled, 9.8}, {time.Second, signalThrottled, 6.86},
			{time.Second, signalThrottled, 4.802}, {time.Second, signalThrottled, 3.3614}, {time.Second, signalThrottled, 2.35298},
			{time.Second, signalThrottled, 1.647086}, {time.Second, signalThrottled, 1.1529602}, {time.Second, signalThrottled, 1},
			{time.Second, signalThrottled, 1},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			a := newAdaptiveRate(t0, documentedWriteRate, documentedWriteBucket, 40, 3000)
			now := t0
			for i, s := range steps {
				now = now.Add(s.after)
				a.observe(now, s.signal)
				if got := a.current(); got < s.want-1e-9 || got > s.want+1e-9 {
					t.Fatalf("step %d (%v): rate = %v, want %v", i+1, s.signal, got, s.want)
				}
			}
		})
	}
}

func TestAdaptiveRateNeverExceedsTheCap(t *testing.T) {
	a := newAdaptiveRate(t0, documentedWriteRate, documentedWriteBucket, 22, 3000)
	now := t0
	for range 100 {
		now = now.Add(time.Second)
		a.observe(now, signalClean)
	}
	if r := a.current(); r != 22 {
		t.Errorf("rate after 100 clean seconds = %v, want the cap 22", r)
	}
	a.setCaps(now, 10, 5)
	if r := a.current(); r != 10 || a.lim.Burst() != 5 {
		t.Errorf("after lowering the caps: rate %v burst %d, want 10 and 5", r, a.lim.Burst())
	}
}

func TestA429EmptiesTheBucket(t *testing.T) {
	a := newAdaptiveRate(t0, documentedWriteRate, documentedWriteBucket, 40, 3000)
	a.observe(t0.Add(time.Second), signalThrottled)
	if d := delayOf(a, t0.Add(time.Second)); d <= 0 {
		t.Errorf("the next write after a 429 went at once (delay %s): Graph's bucket is empty, so ours must be", d)
	}
}

func TestTakeRefusesAWaitLongerThanMaxWaitWithoutSpendingTokens(t *testing.T) {
	th := NewThrottles(nil)
	tt := th.forTenant("t", Limits{RequestsPerSecond: 100, Burst: 100, WritesPerSecond: 1, WriteBurst: 1})
	now := time.Now()
	tt.writes.reserve(now) // the only write token is spent
	err := tt.take(t.Context(), true, 100*time.Millisecond)
	long, ok := err.(errPauseTooLong)
	if !ok || !long.ours || long.remaining < time.Second/2 {
		t.Fatalf("take = %v, want errPauseTooLong from our own bucket with the wait", err)
	}
	if got := tt.requests.lim.TokensAt(time.Now()); got < 99 {
		t.Errorf("the refused take kept a request token (%v left of 100)", got)
	}
}

func TestShardsStartFromTheirShareOfGraphsBuckets(t *testing.T) {
	th := NewThrottles(nil)
	tt := th.forTenant("t", Limits{RequestsPerSecond: 400, Burst: 1750, WritesPerSecond: 20, WriteBurst: 1500, Share: 0.5})
	if r, b := tt.writes.current(), tt.writes.lim.Burst(); r != documentedWriteRate/2 || b != documentedWriteBucket/2 {
		t.Errorf("one of two shards starts writes at %v/s with a bucket of %d, want half of Graph's (%v, %d)", r, b, documentedWriteRate/2, documentedWriteBucket/2)
	}
	if r := tt.requests.current(); r != documentedRequestRate/2 {
		t.Errorf("one of two shards starts requests at %v/s, want %v", r, documentedRequestRate/2)
	}
}
