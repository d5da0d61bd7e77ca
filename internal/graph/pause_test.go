package graph_test

import (
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
)

// TestPauseOnlyExtends: a shorter Retry-After arriving later never cuts a
// longer pause short.
func TestPauseOnlyExtends(t *testing.T) {
	clk := graphtest.NewFakeClock()
	th := graph.NewThrottles(clk)
	graph.PauseTenant(th, "T", time.Minute)
	graph.PauseTenant(th, "T", time.Second)
	if got := graph.PauseRemaining(th, "T"); got != time.Minute {
		t.Errorf("remaining = %s, want 1m", got)
	}
	graph.PauseTenant(th, "T", 2*time.Minute)
	if got := graph.PauseRemaining(th, "T"); got != 2*time.Minute {
		t.Errorf("remaining = %s, want 2m", got)
	}
}

// TestThrottlesSharedPerTenant: tenant ids are case-insensitive keys and
// different tenants never share.
func TestThrottlesSharedPerTenant(t *testing.T) {
	th := graph.NewThrottles(graphtest.NewFakeClock())
	if !graph.ShareThrottle(th, "ABC", "abc") {
		t.Error("the same tenant got two throttles")
	}
	if graph.ShareThrottle(th, "abc", "def") {
		t.Error("two tenants share a throttle")
	}
}
