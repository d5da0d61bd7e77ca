package progress

import (
	"bytes"
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
