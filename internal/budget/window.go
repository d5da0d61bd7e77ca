package budget

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is the rolling window of a tenant's change budget.
const Window = time.Hour

// slot counts the tokens taken within one second.
type slot struct {
	at int64 // unix second
	n  int
}

// window is one pool's tokens in the rolling hour, oldest first, counted per second: its size
// is bounded by the seconds of an hour (3600 slots), whatever the cap, so the Lease that holds
// it stays small even at Graph's write rate.
type window []slot

// prune drops the slots that have left the rolling hour at now.
func (w window) prune(now time.Time) window {
	cutoff := now.Add(-Window).Unix()
	i := 0
	for i < len(w) && w[i].at <= cutoff {
		i++
	}
	return append(window(nil), w[i:]...)
}

// used is how many tokens the window holds.
func (w window) used() int {
	n := 0
	for _, s := range w {
		n += s.n
	}
	return n
}

// take adds a token at now and returns the second it is recorded under (the key to refund
// it by). resolution (in seconds, at least 1) coarsens the slots: a token is recorded at the
// end of its slot, so it leaves the window no earlier than it would have (never undercounted),
// and an hour holds at most 3600/resolution slots.
func (w window) take(now time.Time, resolution int64) (window, int64) {
	return w.takeN(now, resolution, 1)
}

// takeN is take for n tokens at once (a block, see block.go), all recorded under one second.
func (w window) takeN(now time.Time, resolution int64, n int) (window, int64) {
	at := now.Unix()
	if resolution > 1 {
		at = (at + resolution - 1) / resolution * resolution
	}
	out := append(window(nil), w...)
	if last := len(out) - 1; last >= 0 && out[last].at >= at {
		// The same second, or a clock behind another replica's: counted with the newest slot,
		// which leaves the window no earlier than this token would.
		out[last].n += n
		return out, out[last].at
	}
	return append(out, slot{at: at, n: n}), at
}

// refund gives back a token taken at the given second; a token that already left the window
// (or was never there) changes nothing.
func (w window) refund(at int64) window { return w.refundN(at, 1) }

// refundN gives back n tokens taken at the given second (at most as many as it holds).
func (w window) refundN(at int64, n int) window {
	out := make(window, 0, len(w))
	for _, s := range w {
		if s.at == at && n > 0 {
			s.n -= min(n, s.n)
			n = 0
			if s.n == 0 {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// free is how many tokens the cap still allows.
func (w window) free(limit int) int { return max(limit-w.used(), 0) }

// waitFor is how long until a token frees up for a caller with ahead callers before it in
// line, under limit: the time when enough of the oldest tokens have left the window that
// limit-1-ahead remain. When expiry alone cannot make room (a cap of 0, or more callers ahead
// than the cap), it is the whole window: only raising the cap helps sooner.
func (w window) waitFor(limit, ahead int, now time.Time) time.Duration {
	keep := limit - 1 - ahead // tokens that may remain when this caller's turn comes
	if keep < 0 {
		return Window
	}
	leave := w.used() - keep // the oldest tokens that must leave first
	if leave <= 0 {
		return 0
	}
	for _, s := range w {
		if leave -= s.n; leave <= 0 {
			return time.Unix(s.at, 0).Add(Window).Sub(now)
		}
	}
	return Window
}

// String encodes the window as "second:count,…" for the Lease annotation.
func (w window) String() string {
	var b strings.Builder
	for i, s := range w {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(s.at, 10))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(s.n))
	}
	return b.String()
}

// parseWindow decodes String's encoding. A value it cannot read is an error, never an empty
// window: a corrupted ledger must not hand out a full budget.
func parseWindow(v string) (window, error) {
	if v == "" {
		return nil, nil
	}
	var w window
	for _, part := range strings.Split(v, ",") {
		at, n, ok := strings.Cut(part, ":")
		sec, err1 := strconv.ParseInt(at, 10, 64)
		count, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || count <= 0 || (len(w) > 0 && sec <= w[len(w)-1].at) {
			return nil, fmt.Errorf("change budget ledger entry %q is not second:count in ascending order", part)
		}
		w = append(w, slot{at: sec, n: count})
	}
	return w, nil
}
