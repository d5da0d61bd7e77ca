package pace

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

func TestSpacingWait(t *testing.T) {
	cases := map[string]struct {
		last     time.Time
		seen     bool
		interval time.Duration
		now      time.Time
		want     time.Duration
	}{
		"the first event goes now":                      {now: t0, interval: time.Minute, want: 0},
		"an event right after the last waits the rest":  {last: t0, seen: true, interval: time.Minute, now: t0.Add(20 * time.Second), want: 40 * time.Second},
		"an event one interval after the last goes now": {last: t0, seen: true, interval: time.Minute, now: t0.Add(time.Minute), want: 0},
		"an event long after the last goes now":         {last: t0, seen: true, interval: time.Minute, now: t0.Add(time.Hour), want: 0},
	}
	for name, tc := range cases {
		if got := spacingWait(tc.last, tc.seen, tc.interval, tc.now); got != tc.want {
			t.Errorf("%s: wait %v, want %v", name, got, tc.want)
		}
	}
}

func TestComparisonWait(t *testing.T) {
	prev := compared{number: "A", at: t0}
	cases := map[string]struct {
		prev   compared
		seen   bool
		number string
		now    time.Time
		want   time.Duration
	}{
		"the first comparison of a phone is immediate":         {number: "A", now: t0, want: 0},
		"the same number again is compared at once (resync)":   {prev: prev, seen: true, number: "A", now: t0.Add(time.Second), want: 0},
		"a new number soon after the last one waits":           {prev: prev, seen: true, number: "B", now: t0.Add(15 * time.Second), want: 45 * time.Second},
		"a new number an interval after the last one goes now": {prev: prev, seen: true, number: "B", now: t0.Add(time.Minute), want: 0},
	}
	for name, tc := range cases {
		if got := comparisonWait(tc.prev, tc.seen, tc.number, time.Minute, tc.now); got != tc.want {
			t.Errorf("%s: wait %v, want %v", name, got, tc.want)
		}
	}
}

// TestComparisonsCostTimePerGuess: a sequence of numbers for one phone, as a guesser would
// write them; each new number waits a full interval after the previous new one.
func TestComparisonsCostTimePerGuess(t *testing.T) {
	c := &Comparisons{Interval: time.Minute}
	steps := []struct {
		phone, number string
		at            time.Duration
		want          time.Duration
	}{
		{"kim/mobile", "A", 0, 0},
		{"kim/mobile", "A", 5 * time.Second, 0},
		{"kim/mobile", "B", 10 * time.Second, 50 * time.Second},
		{"kim/mobile", "C", 30 * time.Second, 30 * time.Second},
		{"joe/mobile", "C", 30 * time.Second, 0},
		{"kim/mobile", "B", time.Minute, 0},
		{"kim/mobile", "C", 90 * time.Second, 30 * time.Second},
	}
	for i, s := range steps {
		if got := c.Take(s.phone, s.number, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s %s at +%v): wait %v, want %v", i, s.phone, s.number, s.at, got, s.want)
		}
	}
}

// TestForcedReadsSpaceObjectsAndMeterNamespaces: a forced re-read per object per interval, and
// a namespace's reads within its bucket; a refused read spends nothing.
func TestForcedReadsSpaceObjectsAndMeterNamespaces(t *testing.T) {
	f := &ForcedReads{PerObject: Spacing{Interval: 30 * time.Second}, PerNamespace: Buckets{Rate: 0.1, Burst: 2}}
	steps := []struct {
		namespace, object string
		at                time.Duration
		want              time.Duration
	}{
		{"team-a", "a1", 0, 0},
		{"team-a", "a1", time.Second, 29 * time.Second}, // the same object again
		{"team-a", "a2", time.Second, 0},                // the namespace's burst of 2
		{"team-a", "a3", time.Second, 9 * time.Second},  // bucket empty: next token at +10 s
		{"team-b", "b1", time.Second, 0},                // another namespace has its own bucket
		{"team-a", "a3", 10 * time.Second, 0},
		{"team-a", "a1", 31 * time.Second, 0}, // spaced, and a token came back at +20 s
	}
	for i, s := range steps {
		// The bucket counts tokens in floating point: a wait is exact to the millisecond.
		if got := f.Take(s.namespace, s.object, t0.Add(s.at)).Round(time.Millisecond); got != s.want {
			t.Errorf("step %d (%s/%s at +%v): wait %v, want %v", i, s.namespace, s.object, s.at, got, s.want)
		}
	}
}
