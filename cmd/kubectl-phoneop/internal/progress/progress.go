// Package progress shows how far a long read has come: on a terminal, a bar redrawn in place
// (github.com/schollz/progressbar); otherwise (CI logs, pipes) a plain line every few percent.
// It writes counts only, never a user or a number.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Bar counts done items out of a known total.
type Bar struct {
	// bar draws on a terminal; nil in plain mode.
	bar *progressbar.ProgressBar

	w     io.Writer
	label string
	unit  string
	total int
	step  int // plain mode: a line every step percent
	now   func() time.Time

	mu       sync.Mutex
	start    time.Time
	done     int
	lastPct  int
	finished bool
}

// New starts a bar; tty selects the redrawn bar. A nil w discards everything.
func New(w io.Writer, label, unit string, total int, tty bool) *Bar {
	if w == nil {
		w = io.Discard
	}
	b := &Bar{w: w, label: label, unit: unit, total: total, step: 5, now: time.Now, lastPct: -1}
	b.start = b.now()
	if tty && total > 0 {
		b.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		return b
	}
	b.line(true)
	return b
}

// Add records n more items done.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.bar != nil {
		_ = b.bar.Add(n) // writes to the progress stream only; a failed write is not the read's failure
		return
	}
	b.line(false)
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.bar == nil {
		b.line(true)
		return
	}
	if !b.bar.IsFinished() {
		// Stopped short of the total (a failed read): keep the count drawn and end the line.
		_ = b.bar.Exit()
	}
}

// line writes a plain progress line when the percentage crossed a step (or, with force, when it
// changed at all).
func (b *Bar) line(force bool) {
	pct := 100
	if b.total > 0 {
		pct = b.done * 100 / b.total
	}
	if !force && pct/b.step == b.lastPct/b.step {
		return
	}
	if force && pct == b.lastPct {
		return
	}
	b.lastPct = pct
	elapsed := b.now().Sub(b.start)
	fmt.Fprintf(b.w, "%s: %d/%d %s (%d%%) after %s\n", b.label, b.done, b.total, b.unit, pct, elapsed.Round(100*time.Millisecond))
}
