package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

func TestPlainLinesEveryFivePercent(t *testing.T) {
	var b bytes.Buffer
	bar := New(&b, "export", "users", 1000, false)
	for range 100 {
		bar.Add(10)
	}
	bar.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 21 || !strings.HasPrefix(lines[20], "export: 1000/1000 users (100%)") {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
}

func TestBarRedrawsInPlace(t *testing.T) {
	var b bytes.Buffer
	bar := New(&b, "report", "users", 40, true)
	bar.Add(20)
	bar.Add(20)
	bar.Finish()
	if out := b.String(); !strings.Contains(out, "\r") || !strings.Contains(out, "100%") || strings.Count(out, "\n") != 1 {
		t.Fatalf("%q", out)
	}
}

// Where the progress stream is not a terminal (a pipe, a CI log), the plain lines are written:
// no carriage return, no escape sequence, one line per step.
func TestPlainLinesWhenNotATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tty := IsTerminal(w)
	if tty {
		t.Fatal("a pipe is taken for a terminal")
	}
	bar := New(w, "export", "users", 20, tty)
	for range 20 {
		bar.Add(1)
	}
	bar.Finish()
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.ContainsAny(string(out), "\r\x1b") || len(lines) != 21 || !strings.HasPrefix(lines[20], "export: 20/20 users (100%)") {
		t.Fatalf("%d lines:\n%q", len(lines), out)
	}
}

// A bar stopped short of its total (a failed read) ends its line once and keeps its count.
func TestBarStoppedShortEndsItsLine(t *testing.T) {
	var b bytes.Buffer
	bar := New(&b, "export", "users", 40, true)
	bar.Add(10)
	bar.Finish()
	bar.Finish()
	if out := b.String(); strings.Count(out, "\n") != 1 || strings.Contains(out, "100%") {
		t.Fatalf("%q", out)
	}
}
