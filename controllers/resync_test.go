package controllers

import (
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/schedule"
)

// fixedSweeps is a schedule.Sweeps with one answer per tenant.
type fixedSweeps map[string]time.Duration

func (f fixedSweeps) SweepPeriod(tenant string) time.Duration { return f[tenant] }

func TestConvergedObjectsSweepAtTheFeedsPeriod(t *testing.T) {
	cases := map[string]struct {
		sweeps   schedule.Sweeps
		min, max time.Duration
	}{
		"without a feed: the resync period":             {sweeps: nil, min: time.Second, max: time.Hour + 6*time.Minute},
		"a feed that is not healthy: the resync period": {sweeps: fixedSweeps{}, min: time.Second, max: time.Hour + 6*time.Minute},
		"a healthy feed: its sweep period":              {sweeps: fixedSweeps{"contoso": 24 * time.Hour}, min: time.Second, max: 24*time.Hour + 144*time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newUnitWorld(fakeGraph(newPhoneBook()))
			w.r.Sweeps = tc.sweeps
			w.s.outcome, w.s.observed = converged("ok"), true
			res, err := w.r.resultFor(w.s)
			if err != nil || res.RequeueAfter < tc.min || res.RequeueAfter > tc.max {
				t.Errorf("RequeueAfter = %s, %v; want within [%s, %s]", res.RequeueAfter, err, tc.min, tc.max)
			}
		})
	}
	// Spread: across users, a healthy feed's requeues cover the sweep period, not one instant.
	w := newUnitWorld(fakeGraph(newPhoneBook()))
	w.r.Sweeps = fixedSweeps{"contoso": 24 * time.Hour}
	w.s.outcome, w.s.observed = converged("ok"), true
	var lo, hi time.Duration = 48 * time.Hour, 0
	for i := range 200 {
		w.s.user.ID = string(rune('a'+i%26)) + time.Duration(i).String()
		res, _ := w.r.resultFor(w.s)
		lo, hi = min(lo, res.RequeueAfter), max(hi, res.RequeueAfter)
	}
	if hi-lo < 12*time.Hour {
		t.Errorf("200 users' sweeps span only %s of a 24h period", hi-lo)
	}
}
