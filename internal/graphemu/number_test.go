package graphemu_test

import (
	"strings"
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

func TestValidPhoneNumber(t *testing.T) {
	cases := map[string]bool{
		"+1 5555551234": true, "+1 5555551234x123": true, "+44 7700900123": true, "+354 5551234": true,
		"+1 5555551234x": false, "+15555551234": false, "1 5555551234": false, "+1  5555551234": false,
		"+1 555 555 1234": false, "+1-555-555-1234": false, "+1 (555) 5551234": false, "+0 5555551234": false,
		"+1234 5555551234": false, "+1 123": false, "+1 5555551234x12345678901": false, "": false,
		"+1 555555123412345": false, "+1 5555551234 ": false, "+1 5555551234X1": false,
	}
	for in, want := range cases {
		if got := graphemu.ValidPhoneNumber(in); got != want {
			t.Errorf("ValidPhoneNumber(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzValidPhoneNumber: whatever is accepted has the documented shape.
func FuzzValidPhoneNumber(f *testing.F) {
	for _, s := range []string{"+1 5555551234", "+1 5555551234x123", "+44 7700900123", "+1 5x", "++1 5555"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !graphemu.ValidPhoneNumber(s) {
			return
		}
		if !strings.HasPrefix(s, "+") || strings.Count(s, " ") != 1 || strings.Count(s, "x") > 1 {
			t.Fatalf("accepted %q", s)
		}
		if strings.Trim(s, "+ x0123456789") != "" {
			t.Fatalf("accepted %q with other characters", s)
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, strings.SplitN(s, "x", 2)[0])
		if len(digits) > 15 {
			t.Fatalf("accepted %q longer than E.164", s)
		}
	})
}
