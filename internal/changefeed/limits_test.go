package changefeed

import (
	"testing"
	"time"
)

func TestSlidingWindowAdmitsTheLimitPerSpan(t *testing.T) {
	span := reportsWindow + reportsSlack
	cases := map[string]struct {
		taken []time.Duration // requests already recorded, from unitNow
		now   time.Duration
		want  time.Duration
	}{
		"an empty window admits at once":          {nil, 0, 0},
		"four of five admit at once":              {[]time.Duration{0, 0, 0, 0}, 0, 0},
		"a full window waits for its oldest":      {[]time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, 5 * time.Second, span},
		"a full window whose oldest left admits":  {[]time.Duration{0, 1, 2, 3, 4}, span + 4, span + 4},
		"promised requests in the future count":   {[]time.Duration{0, 0, 0, 0, 20 * time.Second}, time.Second, span},
		"only the latest five decide (not older)": {[]time.Duration{-time.Hour, 0, 0, 0, 0, 0}, time.Second, span},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWindow(reportsPerTenant, 1)
			for _, d := range tc.taken {
				w.take(unitNow.Add(d))
			}
			if got := w.earliest(unitNow.Add(tc.now)); !got.Equal(unitNow.Add(tc.want)) {
				t.Errorf("earliest = %s, want %s", got.Sub(unitNow), tc.want)
			}
		})
	}
}

func TestReportsLimiterRefundsARequestNeverSent(t *testing.T) {
	clock := unitNow
	l := &reportsLimiter{now: func() time.Time { return clock }}
	var at []time.Time
	for range reportsPerTenant {
		at = append(at, l.reserve("tenant-1", "app"))
	}
	if next := l.reserve("tenant-1", "app"); !next.Equal(unitNow.Add(reportsWindow + reportsSlack)) {
		t.Fatalf("the sixth request within the window goes at %s, want after the window", next.Sub(unitNow))
	}
	l.refund("tenant-1", "app", unitNow.Add(reportsWindow+reportsSlack))
	l.refund("tenant-1", "app", at[4])
	if next := l.reserve("tenant-1", "app"); !next.Equal(unitNow) {
		t.Errorf("after two refunds the next request goes at %s, want at once", next.Sub(unitNow))
	}
	if next := l.reserve("tenant-2", "other-app"); !next.Equal(unitNow) {
		t.Errorf("another tenant waits (%s) on this tenant's window", next.Sub(unitNow))
	}
	if got := newWindow(reportsPerApp, 0.5).limit; got != reportsPerApp/2 {
		t.Errorf("half a share of the app limit is %d, want %d", got, reportsPerApp/2)
	}
}

func TestReportsLimiterCapsAnAppAcrossTenants(t *testing.T) {
	l := &reportsLimiter{now: func() time.Time { return unitNow }}
	for i := range reportsPerApp {
		tenant := "tenant-" + string(rune('a'+i/reportsPerTenant)) + string(rune('a'+i%26))
		if at := l.reserve(tenant, "app"); !at.Equal(unitNow) {
			t.Fatalf("request %d of the app waits %s; the app's cap is %d", i+1, at.Sub(unitNow), reportsPerApp)
		}
	}
	if at := l.reserve("a-new-tenant", "app"); !at.After(unitNow) {
		t.Errorf("request %d of the app in a fresh tenant goes at once; want it to wait for the app's window", reportsPerApp+1)
	}
	if at := l.reserve("a-new-tenant", "another-app"); !at.Equal(unitNow) {
		t.Errorf("another app waits %s on this app's cap", at.Sub(unitNow))
	}
}
