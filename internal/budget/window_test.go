package budget

import (
	"testing"
	"time"
)

func TestWindowArithmetic(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	w := window{{at: t0.Unix(), n: 2}, {at: t0.Add(10 * time.Minute).Unix(), n: 1}, {at: t0.Add(20 * time.Minute).Unix(), n: 3}}
	cases := map[string]struct {
		limit, ahead int
		now          time.Time
		wantFree     int
		wantWait     time.Duration
	}{
		"room left: no wait":                                  {limit: 10, now: t0.Add(30 * time.Minute), wantFree: 4, wantWait: 0},
		"full: the oldest second must leave":                  {limit: 6, now: t0.Add(30 * time.Minute), wantFree: 0, wantWait: 30 * time.Minute},
		"full, one ahead: both tokens of the oldest second":   {limit: 6, ahead: 1, now: t0.Add(30 * time.Minute), wantWait: 30 * time.Minute},
		"full, two ahead: the next second":                    {limit: 6, ahead: 2, now: t0.Add(30 * time.Minute), wantWait: 40 * time.Minute},
		"cap lowered below the window: the newest must leave": {limit: 1, now: t0.Add(30 * time.Minute), wantWait: 50 * time.Minute},
		"a cap of 0: only raising it helps":                   {limit: 0, now: t0.Add(30 * time.Minute), wantWait: Window},
		"more ahead than the cap: the whole window":           {limit: 2, ahead: 2, now: t0.Add(30 * time.Minute), wantWait: Window},
		"the oldest second left the hour":                     {limit: 4, now: t0.Add(61 * time.Minute), wantFree: 0, wantWait: 9 * time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pruned := w.prune(tc.now)
			if got := pruned.free(tc.limit); got != tc.wantFree {
				t.Errorf("free = %d, want %d", got, tc.wantFree)
			}
			if got := pruned.waitFor(tc.limit, tc.ahead, tc.now); got != tc.wantWait {
				t.Errorf("waitFor = %s, want %s", got, tc.wantWait)
			}
		})
	}
}

func TestWindowTakeAndRefund(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var w window
	w, a := w.take(t0, 1)
	w, b := w.take(t0, 1)
	w, c := w.take(t0.Add(time.Second), 1)
	if a != b || a != t0.Unix() || c != t0.Unix()+1 || w.used() != 3 || len(w) != 2 {
		t.Fatalf("takes: %v (%d %d %d), want two tokens in one second and one in the next", w, a, b, c)
	}
	if _, late := w.take(t0, 1); late != c {
		t.Errorf("a take from a clock behind the newest slot is recorded under %d, want the newest slot %d", late, c)
	}
	w = w.refund(c)
	if w.used() != 2 || len(w) != 1 {
		t.Errorf("after refunding the second slot's token: %v, want one slot of 2", w)
	}
	if got := w.refund(t0.Unix() - 3600).used(); got != 2 {
		t.Errorf("refunding a token not in the window changed it: used %d", got)
	}
}

func TestACoarseSlotRecordsATokenAtItsEnd(t *testing.T) {
	t0 := time.Unix(1700000010, 0) // 10 s into a minute
	w, at := window(nil).take(t0, 60)
	if at != 1700000040 || w.used() != 1 {
		t.Fatalf("take at %d with a minute's resolution: recorded at %d, want the end of the minute (1700000040)", t0.Unix(), at)
	}
	if got := w.waitFor(1, 0, t0); got != time.Hour+30*time.Second {
		t.Errorf("wait = %s, want the hour from the end of the slot (1h0m30s): never shorter than the token's real hour", got)
	}
}

func TestWindowEncoding(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    window
		wantErr bool
	}{
		"empty":                       {in: "", want: nil},
		"two slots":                   {in: "1700000000:2,1700000600:1", want: window{{1700000000, 2}, {1700000600, 1}}},
		"garbage is an error":         {in: "x:1", wantErr: true},
		"a zero count is an error":    {in: "1700000000:0", wantErr: true},
		"out of order is an error":    {in: "1700000600:1,1700000000:1", wantErr: true},
		"a missing count is an error": {in: "1700000000", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseWindow(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if got.String() != tc.want.String() || got.String() != tc.in {
				t.Errorf("parsed %q as %v, want %v (and back to the same text)", tc.in, got, tc.want)
			}
		})
	}
}

func TestWindowTakesAndRefundsBlocks(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	w := window{{at: t0.Unix(), n: 2}}
	cases := map[string]struct {
		got, want string
	}{
		"a block at a new minute slot":     {got: first(w.takeN(t0.Add(30*time.Second), 60, 32)).String(), want: "1700000000:2,1700000040:32"},
		"a block joins the newest slot":    {got: first(w.takeN(t0, 1, 5)).String(), want: "1700000000:7"},
		"a part of a slot given back":      {got: window{{at: 1, n: 3}, {at: 2, n: 5}}.refundN(2, 4).String(), want: "1:3,2:1"},
		"a whole slot given back":          {got: window{{at: 1, n: 3}, {at: 2, n: 5}}.refundN(1, 3).String(), want: "2:5"},
		"never more than the slot holds":   {got: window{{at: 1, n: 3}, {at: 2, n: 5}}.refundN(1, 9).String(), want: "2:5"},
		"a slot that left the hour: no-op": {got: window{{at: 2, n: 5}}.refundN(1, 3).String(), want: "2:5"},
	}
	for name, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: %s, want %s", name, tc.got, tc.want)
		}
	}
}

func first(w window, _ int64) window { return w }

func TestABlockExpiresAfterAMinuteAndNeverPastItsHour(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cases := map[string]struct {
		at   int64
		want time.Time
	}{
		"a slot of this minute: a minute": {at: now.Unix() + 40, want: now.Add(blockLife)},
		"a slot about to leave the hour":  {at: now.Add(-Window + 10*time.Second).Unix(), want: now.Add(10 * time.Second)},
	}
	for name, tc := range cases {
		b := newBlock(1, tc.at, 32, now)
		if !b.expires.Equal(tc.want) || b.left != 31 {
			t.Errorf("%s: expires %s with %d left, want %s with 31", name, b.expires, b.left, tc.want)
		}
		if b.live(tc.want) {
			t.Errorf("%s: still live when it expires", name)
		}
	}
}
