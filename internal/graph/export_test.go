package graph

import "time"

// Hooks for the external tests (package graph_test). Tests that need graphtest live there: an
// internal test may not import graphtest, because graphtest imports this package.

// PauseTenant pauses a tenant's requests as a Retry-After would.
func PauseTenant(th *Throttles, tenantID string, d time.Duration) {
	th.forTenant(tenantID, DefaultLimits).pause(d)
}

// PauseRemaining returns how long the tenant stays paused.
func PauseRemaining(th *Throttles, tenantID string) time.Duration {
	return th.forTenant(tenantID, DefaultLimits).remaining()
}

// ShareThrottle reports whether two tenant ids get the same throttle state.
func ShareThrottle(th *Throttles, a, b string) bool {
	return th.forTenant(a, DefaultLimits) == th.forTenant(b, DefaultLimits)
}
