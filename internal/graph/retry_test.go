package graph_test

import (
	"testing"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestTransientRetriedBoundedTimes: idempotent calls are retried MaxRetries
// times on 5xx and then give up; the emulator counts every attempt.
func TestTransientRetriedBoundedTimes(t *testing.T) {
	const maxRetries = 3
	calls := map[string]struct {
		method, route string
		call          func(c *graph.Client, ctx testCtx) error
	}{
		"List": {"GET", graphemu.RoutePhoneList, func(c *graph.Client, ctx testCtx) error {
			_, err := c.ListPhoneMethods(ctx, kimID)
			return err
		}},
		"UpdatePhoneNumber": {"PATCH", graphemu.RoutePhoneItem, func(c *graph.Client, ctx testCtx) error {
			return c.UpdatePhoneNumber(ctx, kimID, methodid.Mobile, "mobile", numberKim2)
		}},
		"Delete": {"DELETE", graphemu.RoutePhoneItem, func(c *graph.Client, ctx testCtx) error {
			return c.DeletePhoneMethod(ctx, kimID, methodid.Mobile)
		}},
		"EnableSMSSignIn": {"POST", graphemu.RouteEnableSMS, func(c *graph.Client, ctx testCtx) error {
			return c.EnableSMSSignIn(ctx, kimID, methodid.Mobile)
		}},
	}
	for name, tc := range calls {
		t.Run(name, func(t *testing.T) {
			clk := graphtest.NewVirtualClock()
			f := newFixture(t, withClock(clk))
			f.env.Emulator.SetFaults(graphemu.Faults{Rate5xx: 1})
			err := tc.call(f.client(t, tenantA, retries(maxRetries)), testContext(t))
			if !graph.IsTransient(err) || graph.IsAmbiguous(err) {
				t.Fatalf("err = %v, want Transient and not ambiguous", err)
			}
			if got := f.env.Count(tc.method, tc.route); got != maxRetries+1 {
				t.Errorf("attempts seen by Graph = %d, want %d", got, maxRetries+1)
			}
			var ge *graph.Error
			if !asGraphError(err, &ge) {
				t.Fatalf("err %T is not a *graph.Error", err)
			}
			if ge.Attempts != maxRetries+1 {
				t.Errorf("Error.Attempts = %d, want %d", ge.Attempts, maxRetries+1)
			}
			// One wait before each retry: Retry-After pause (503) or backoff (504).
			if got := len(clk.Waits()); got != maxRetries {
				t.Errorf("waits = %v, want %d of them", clk.Waits(), maxRetries)
			}
			f.recordCost(t)
		})
	}
}

// TestTransientThenSuccess: two failures, then the third attempt works and
// the caller never sees an error.
func TestTransientThenSuccess(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, tenantA)
	ctx := testContext(t)
	if _, err := c.GetUser(ctx, kimID); err != nil { // token first
		t.Fatal(err)
	}
	f.env.Emulator.ResetStats()
	f.env.Emulator.SetFaults(graphemu.Faults{Rate5xx: 1})
	f.afterRequests(2, func() { f.env.Emulator.SetFaults(graphemu.Faults{}) })
	if _, err := c.ListPhoneMethods(ctx, kimID); err != nil {
		t.Fatalf("ListPhoneMethods: %v", err)
	}
	if got := f.env.Count("GET", graphemu.RoutePhoneList); got != 3 {
		t.Errorf("attempts = %d, want 3", got)
	}
	f.recordCost(t)
}

// TestCreateNotRetriedWhenAmbiguous: a create whose outcome is unknown is
// sent exactly once and reported as ambiguous; the caller re-reads.
func TestCreateNotRetriedWhenAmbiguous(t *testing.T) {
	cases := map[string]struct {
		reason string
		faults graphemu.Faults
		saved  bool // whether the emulator kept the method
	}{
		"LostResponse": {"the write was saved, then the connection closed instead of answering",
			graphemu.Faults{RateLostResponse: 1}, true},
		"DroppedConnection": {"the connection closed after the request was sent, before processing",
			graphemu.Faults{RateDrop: 1}, false},
		"ServiceUnavailable": {"a 5xx may come after the service saved the method",
			graphemu.Faults{Rate5xx: 1}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			c := f.client(t, tenantA, retries(5))
			ctx := testContext(t)
			f.env.Emulator.SetFaults(tc.faults)
			_, err := c.CreatePhoneMethod(ctx, kimID, graph.PhoneTypeMobile, numberKim)
			if !graph.IsAmbiguous(err) || !graph.IsTransient(err) {
				t.Fatalf("Reason: %s\nerr = %v, want ambiguous and transient", tc.reason, err)
			}
			if got := f.env.Count("POST", graphemu.RoutePhoneList); got != 1 {
				t.Errorf("Reason: %s\nPOSTs = %d, want exactly 1", tc.reason, got)
			}
			// The re-read the caller must do tells the truth.
			f.env.Emulator.SetFaults(graphemu.Faults{})
			ms, err := c.ListPhoneMethods(ctx, kimID)
			if err != nil {
				t.Fatal(err)
			}
			if saved := len(ms) == 1; saved != tc.saved {
				t.Errorf("Reason: %s\nsaved = %v, want %v", tc.reason, saved, tc.saved)
			}
			f.recordCost(t)
		})
	}
}

// TestCreateRetriedAfter429: Graph did not process a throttled POST, so it
// is safe to send again once the pause has passed.
func TestCreateRetriedAfter429(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, tenantA)
	ctx := testContext(t)
	f.env.Emulator.SetFaults(graphemu.Faults{Rate429: 1})
	f.afterRequests(1, func() { f.env.Emulator.SetFaults(graphemu.Faults{}) })
	m, err := c.CreatePhoneMethod(ctx, kimID, graph.PhoneTypeMobile, numberKim)
	if err != nil {
		t.Fatalf("CreatePhoneMethod: %v", err)
	}
	if m.ID != methodid.Mobile {
		t.Errorf("id = %q, want the mobile id", m.ID)
	}
	if got, want := countStatus(f, "POST", graphemu.RoutePhoneList, 429), 1; got != want {
		t.Errorf("throttled POSTs = %d, want %d", got, want)
	}
	if got, want := countStatus(f, "POST", graphemu.RoutePhoneList, 201), 1; got != want {
		t.Errorf("created POSTs = %d, want %d", got, want)
	}
	f.recordCost(t)
}
