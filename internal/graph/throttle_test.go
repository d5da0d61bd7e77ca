package graph_test

import (
	"sync"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestThrottlePausesWholeTenant: one 429 pauses every client of that tenant,
// 20 concurrent callers included, and no other tenant. Time is a FakeClock,
// so "paused" is observed (callers blocked on the clock, no requests at the
// emulator) rather than guessed from wall-clock durations.
func TestThrottlePausesWholeTenant(t *testing.T) {
	const callers = 20
	const retryAfter = 30 * time.Second
	clk := graphtest.NewFakeClock()
	f := newFixture(t, withClock(clk))
	ctx := testContext(t)
	// Fetch both tenants' tokens first, so the window below is Graph only.
	// Every client of tenant A shares one credential, as the manager's do, so
	// the callers below find its token cached and the window is Graph only.
	cred := f.credential(t, tenantA)
	shareCred := func(c *graph.Config) { c.Credential = cred }
	first := f.client(t, tenantA, shareCred)
	other := f.client(t, tenantB)
	if _, err := first.GetUser(ctx, kimID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetUser(ctx, leeID); err != nil {
		t.Fatal(err)
	}
	f.env.Emulator.ResetStats()
	listOK := func() int { return countStatus(f, "GET", graphemu.RoutePhoneList, 200) }

	// 1. The first caller is throttled and waits out the pause itself.
	f.env.Emulator.SetFaults(graphemu.Faults{Rate429: 1, RetryAfterSeconds: int(retryAfter / time.Second)})
	var wg sync.WaitGroup
	errs := make(chan error, callers+1)
	list := func(c *graph.Client) {
		defer wg.Done()
		_, err := c.ListPhoneMethods(ctx, kimID)
		errs <- err
	}
	wg.Add(1)
	go list(first)
	if err := clk.AwaitWaiters(ctx, 1); err != nil {
		t.Fatalf("the throttled caller never waited: %v", err)
	}
	f.env.Emulator.SetFaults(graphemu.Faults{})

	// 2. Twenty more callers, each with its own Client of the same tenant,
	// join the pause instead of calling Graph.
	for range callers {
		c := f.client(t, tenantA, shareCred)
		wg.Add(1)
		go list(c)
	}
	if err := clk.AwaitWaiters(ctx, callers+1); err != nil {
		t.Fatalf("callers did not join the pause: %v", err)
	}
	if got := countStatus(f, "GET", graphemu.RoutePhoneList, 429); got != 1 {
		t.Errorf("429 answers = %d, want 1", got)
	}
	if got := listOK(); got != 0 {
		t.Fatalf("%d requests of the paused tenant reached Graph, want 0", got)
	}

	// 3. The other tenant is not paused: its call completes while all 21
	// callers of tenant A are still blocked.
	if _, err := other.GetUser(ctx, leeID); err != nil {
		t.Fatalf("tenant B was affected by tenant A's pause: %v", err)
	}
	if got := countStatus(f, "GET", graphemu.RouteUser, 200); got != 1 {
		t.Errorf("tenant B calls = %d, want 1", got)
	}
	if got := listOK(); got != 0 {
		t.Fatalf("tenant A sent %d requests before its pause ended", got)
	}

	// 4. The pause passes: everyone proceeds, exactly once each.
	clk.Step(retryAfter)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("caller failed after the pause: %v", err)
		}
	}
	if got := listOK(); got != callers+1 {
		t.Errorf("successful lists = %d, want %d", got, callers+1)
	}
	f.recordCost(t)
}

// TestLongPauseFailsFast: a pause longer than MaxWait is not waited out.
// Callers get a Throttled error carrying the time left and Graph sees
// nothing, so workers are free to requeue.
func TestLongPauseFailsFast(t *testing.T) {
	clk := graphtest.NewFakeClock()
	f := newFixture(t, withClock(clk))
	ctx := testContext(t)
	short := func(c *graph.Config) { c.Limits.MaxWait = time.Second; c.Limits.MaxPause = time.Minute }
	a := f.client(t, tenantA, short, noRetries)
	f.env.Emulator.SetFaults(graphemu.Faults{Rate429: 1, RetryAfterSeconds: 3600})
	_, err := a.ListPhoneMethods(ctx, kimID)
	if !graph.IsThrottled(err) || graph.RetryAfterOf(err) != time.Minute {
		t.Fatalf("first call: %v, want Throttled with Retry-After clamped to MaxPause (1m)", err)
	}
	f.env.Emulator.SetFaults(graphemu.Faults{})
	before := f.graphCalls()
	for range 20 {
		_, err := f.client(t, tenantA, short).ListPhoneMethods(ctx, kimID)
		if !graph.IsThrottled(err) || graph.RetryAfterOf(err) != time.Minute {
			t.Fatalf("paused call: %v, want Throttled with 1m left", err)
		}
	}
	if got := f.graphCalls() - before; got != 0 {
		t.Errorf("paused callers made %d Graph calls, want 0", got)
	}
	clk.Step(time.Minute)
	if _, err := a.ListPhoneMethods(ctx, kimID); err != nil {
		t.Errorf("after the pause: %v", err)
	}
	f.recordCost(t)
}

// countStatus counts the emulator's answers with method, route and status.
func countStatus(f *fixture, method, route string, status int) int {
	n := 0
	for _, s := range f.env.Emulator.Stats() {
		if s.Method == method && s.Route == route && s.Status == status {
			n += s.Count
		}
	}
	return n
}

// TestASpentBudgetRequeuesInsteadOfBlocking: when the tenant's own write bucket would hold a
// call longer than MaxWait, the call is not sent and not waited for: it fails at once with a
// client-throttled error saying when to come back, so the worker can take other work.
func TestASpentBudgetRequeuesInsteadOfBlocking(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	c := f.client(t, tenantA, func(cfg *graph.Config) {
		cfg.Limits.WritesPerSecond, cfg.Limits.WriteBurst, cfg.Limits.MaxWait = 0.2, 1, 100*time.Millisecond
	})
	if err := c.EnableSMSSignIn(ctx, kimID, methodid.Mobile); err != nil && graph.IsClientThrottled(err) {
		t.Fatalf("the first write was held by our own bucket: %v", err)
	}
	f.env.Emulator.ResetStats()
	err := c.DisableSMSSignIn(ctx, kimID, methodid.Mobile)
	if !graph.IsClientThrottled(err) || !graph.IsThrottled(err) {
		t.Fatalf("second write = %v, want a client-throttled error", err)
	}
	if d := graph.RetryAfterOf(err); d < 4*time.Second || d > 5*time.Second {
		t.Errorf("RetryAfterOf = %s, want the bucket's refill time (5 s at 0.2 writes/s)", d)
	}
	if n := f.graphCalls(); n != 0 {
		t.Errorf("the refused write reached Graph (%d calls)", n)
	}
}
