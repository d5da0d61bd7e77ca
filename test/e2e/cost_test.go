/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"testing"

	"github.com/phoneop/phoneop/internal/testharness"
)

// cost counts, with the emulator's stats, the Graph calls a scenario makes, and logs them
// per object: these are the numbers the README and the closing note quote.
func cost(t *testing.T, scenario string, objects int, run func()) testharness.Stats {
	t.Helper()
	ctx := context.Background()
	if err := h.ResetEmulatorStats(ctx); err != nil {
		t.Fatal(err)
	}
	run()
	stats, err := h.EmulatorStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reads, writes := stats.Graph()
	tokens := stats.Count("POST", "/{tenant}/oauth2/v2.0/token")
	t.Logf("Graph calls, %s: %d reads + %d writes for %d object(s) = %.2f per object (token requests: %d)\n%s",
		scenario, reads, writes, objects, float64(reads+writes)/float64(objects), tokens, stats)
	return stats
}
