// Package progress shows how far a long read has come: a bar redrawn in place on a terminal,
// a plain line every few percent otherwise (CI logs, pipes). It writes counts only, never a
// user or a number.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Bar counts done items out of a known total.
type Bar struct {
	w     io.Writer
	label string
	unit  string
	total int
	tty   bool
	step  int // plain mode: a line every step percent
	now   func() time.Time

	mu       sync.Mutex
	start    time.Time
	done     int
	lastPct  int
	lastDraw time.Time
	finished bool
}

// New starts a bar; tty selects the redrawn bar. A nil w discards everything.
func New(w io.Writer, label, unit string, total int, tty bool) *Bar {
	if w == nil {
		w = io.Discard
	}
	b := &Bar{w: w, label: label, unit: unit, total: total, tty: tty, step: 5, now: time.Now, lastPct: -1}
	b.start = b.now()
	b.draw(true)
	return b
}

// Add records n more items done.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.draw(false)
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	b.draw(true)
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

func (b *Bar) draw(force bool) {
	pct := 100
	if b.total > 0 {
		pct = b.done * 100 / b.total
	}
	elapsed := b.now().Sub(b.start)
	if !b.tty {
		if !force && pct/b.step == b.lastPct/b.step {
			return
		}
		if force && pct == b.lastPct {
			return
		}
		b.lastPct = pct
		fmt.Fprintf(b.w, "%s: %d/%d %s (%d%%) after %s\n", b.label, b.done, b.total, b.unit, pct, elapsed.Round(100*time.Millisecond))
		return
	}
	if !force && b.now().Sub(b.lastDraw) < 100*time.Millisecond {
		return
	}
	b.lastDraw = b.now()
	const width = 30
	filled := width * pct / 100
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled < width && filled > 0 {
		bar = strings.Repeat("=", filled-1) + ">" + strings.Repeat(" ", width-filled)
	}
	rate, eta := "", ""
	if s := elapsed.Seconds(); s > 0.5 && b.done > 0 {
		r := float64(b.done) / s
		rate = fmt.Sprintf("  %.0f/s", r)
		if left := b.total - b.done; left > 0 {
			eta = fmt.Sprintf("  eta %s", (time.Duration(float64(left)/r) * time.Second).Round(time.Second))
		}
	}
	fmt.Fprintf(b.w, "\r%s [%s] %3d%%  %d/%d %s%s%s\x1b[K", b.label, bar, pct, b.done, b.total, b.unit, rate, eta)
}
