package schedule

import (
	"testing"
	"time"
)

func TestAfter(t *testing.T) {
	period := 30 * time.Minute
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	a1 := After("tenant/user-a", period, now)
	a2 := After("tenant/user-a", period, now.Add(3*time.Second))
	if a1-a2 != 3*time.Second && a1+period-a2 != 3*time.Second {
		t.Errorf("objects of one user must come due at the same instant: %v then %v", a1, a2)
	}
	for _, key := range []string{"tenant/user-a", "tenant/user-b", "other/user-a"} {
		if d := After(key, period, now); d <= time.Second || d > period*12/10+time.Second {
			t.Errorf("After(%q) = %v, want within (1s, 1.2 × period]", key, d)
		}
	}
	// Following one user through many cycles: each interval is the period ±10 % per end (so
	// within 0.8–1.2 periods), and the jitter really varies.
	at, intervals := now, map[time.Duration]bool{}
	prev := at.Add(After("tenant/user-a", period, at))
	for range 50 {
		next := prev.Add(After("tenant/user-a", period, prev))
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
		seen[After("tenant/user-"+string(rune('a'+i%26))+string(rune('a'+i/26)), period, now).Truncate(time.Minute)] = true
	}
	if len(seen) < 15 {
		t.Errorf("100 users fall into only %d distinct minutes of a 30-minute period", len(seen))
	}
	if d := After("x", 0, now); d != 0 {
		t.Errorf("a zero period must disable resync, got %v", d)
	}
}
