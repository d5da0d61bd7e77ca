package main

import (
	"io"
	"testing"
	"time"
)

// TestAuditLagFlag: the audit log's delivery lag defaults to Entra's typical 2 minutes, and
// tests set seconds.
func TestAuditLagFlag(t *testing.T) {
	for args, want := range map[string]time.Duration{"": 2 * time.Minute, "-audit-lag=3s": 3 * time.Second, "-audit-lag=0": 0} {
		c, p := testFlags(t, io.Discard)
		var argv []string
		if args != "" {
			argv = []string{args}
		}
		if err := p.Parse(argv); err != nil {
			t.Fatal(err)
		}
		if c.opts.AuditLag != want {
			t.Errorf("%q: AuditLag %s, want %s", args, c.opts.AuditLag, want)
		}
	}
}
