package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/phoneop/phoneop/internal/testharness"
)

const (
	secondNamespace  = "bench-second"
	secondTenantName = "bench-second"
	// secondTenantFirstUser numbers the second tenant's users after any first tenant's.
	secondTenantFirstUser = 900000
	// SecondTenantTarget is the fairness bound: a small tenant's new objects are Ready this
	// soon even while another tenant onboards a backlog.
	SecondTenantTarget = 30 * time.Second
)

// secondTenant is a small tenant that starts onboarding right after the first tenant's
// objects are created: with workers that wait for a tenant's tokens, the first tenant's
// backlog would hold it back for as long as that backlog lasts.
type secondTenant struct {
	w  workload
	tr *tracker
}

// prepareSecondTenant seeds the tenant's users (one mobile each) in the emulator, creates its
// EntraTenant and namespace, waits for the tenant to be Ready, and starts watching its
// PhoneAuthMethods. Nothing is created for its users yet.
func prepareSecondTenant(ctx context.Context, h *testharness.Harness, cfg *rest.Config, scheme *runtime.Scheme, n int) (*secondTenant, error) {
	w := newWorkloadFrom(secondTenantFirstUser, n, Mix{}, secondNamespace, secondTenantName)
	t := &testharness.Tenant{Name: secondTenantName, Namespace: secondNamespace, InEmulator: true,
		TenantID: "0bec0000-0000-4000-8000-000000000011", ClientID: "0bec0000-0000-4000-8000-000000000012",
		ClientSecret: fmt.Sprintf("bench-%d", rand.Int64())}
	if err := h.SeedEmulator(ctx, w.seed(t.TenantID, t.ClientID, t.ClientSecret)); err != nil {
		return nil, err
	}
	if err := h.CreateTenant(ctx, t); err != nil {
		return nil, err
	}
	tr, err := startTracker(ctx, cfg, scheme, secondNamespace)
	if err != nil {
		return nil, err
	}
	return &secondTenant{w: w, tr: tr}, nil
}

// secondTenantResult is how long the second tenant's objects took to be Ready.
type secondTenantResult struct {
	objects int
	ready   time.Duration // from the first create until all were Ready
	err     error
}

// onboard creates the tenant's objects and reports, on the channel, when all are Ready (or
// timeout passes).
func (s *secondTenant) onboard(ctx context.Context, c client.Client, timeout time.Duration, alive func() error, logf func(string, ...any)) <-chan secondTenantResult {
	done := make(chan secondTenantResult, 1)
	go func() {
		start := time.Now()
		r := secondTenantResult{objects: len(s.w.objects)}
		if r.err = s.w.create(ctx, c, 4); r.err == nil {
			quiet := func(string, ...any) {}
			r.err = s.tr.waitReady(ctx, len(s.w.objects), timeout, alive, quiet)
		}
		r.ready = time.Since(start)
		logf("bench: second tenant's %d objects Ready after %s", r.objects, r.ready.Round(100*time.Millisecond))
		done <- r
	}()
	return done
}
