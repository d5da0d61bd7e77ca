package changefeed

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// TestFeedStaysWithinTheReportsLimitUnderABurst: forced polls one after another, each of two
// pages, against the emulator's audit log with Graph's reports limits on (5 requests per 10 s
// per app and tenant): the feed never gets a 429 and never sends 6 requests within 10 s.
// It takes about 11 s: the 6th request waits for the window.
func TestFeedStaysWithinTheReportsLimitUnderABurst(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the reports window (about 11 s)")
	}
	const emuTenant = "33333333-0000-4000-8000-000000000033"
	var mu sync.Mutex
	var sent []time.Time
	var throttled, notLow int
	env := graphtest.NewEnv(t, graphemu.Options{Log: func(l graphemu.RequestLog) {
		if l.Route != graphemu.RouteDirectoryAudits {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, time.Now())
		if l.Status == http.StatusTooManyRequests {
			throttled++
		}
		if l.Priority != string(graph.PriorityLow) {
			notLow++
		}
	}})
	env.MustAddTenant(t, graphemu.Tenant{ID: emuTenant})
	env.MustAddApp(t, graphemu.App{TenantID: emuTenant, ClientID: unitOwnApp, ClientSecret: "s",
		Permissions: []string{graphemu.PermAuditLogReadAll}})
	for range 1500 { // two pages of 999
		if err := env.Emulator.AddAuditEntry(emuTenant, graphemu.AuditEntry{ActivityDisplayName: graphemu.ActivityUserUpdated,
			InitiatedByUserID: "u", TargetUserID: "someone"}); err != nil {
			t.Fatal(err)
		}
	}
	et := &identityv1alpha1.EntraTenant{Spec: identityv1alpha1.EntraTenantSpec{TenantID: emuTenant, Cloud: identityv1alpha1.CloudCustom,
		AuthorityHost: env.AuthorityHost(), GraphEndpoint: env.GraphRoot()}}
	conn, err := tenantconn.Dial(et, graph.CredentialSource{ClientID: unitOwnApp, ClientSecret: "s"},
		tenantconn.Options{HTTPClient: env.HTTPClient(), Limits: graph.Limits{MaxRetries: -1}, Throttles: graph.NewThrottles(nil)})
	if err != nil {
		t.Fatal(err)
	}
	w := newFeedWorld(t)
	w.f.Connector, w.f.Now = fixedConnector{conn}, nil // the real clock: the limits are Graph's

	const polls = 4
	for range polls {
		var tenant identityv1alpha1.EntraTenant
		if err := w.k8s.Get(context.Background(), client.ObjectKey{Name: "contoso"}, &tenant); err != nil {
			t.Fatal(err)
		}
		w.f.mu.Lock()
		if feed := w.f.feeds["contoso"]; feed != nil {
			feed.nextPoll = time.Time{} // forced: due at once
		}
		w.f.mu.Unlock()
		feed := w.f.due(&tenant)
		if feed == nil {
			t.Fatal("no poll was due")
		}
		w.f.poll(context.Background(), &tenant, feed)
		if feed.facts.failing {
			t.Fatalf("a poll failed (%s)", feed.facts.failClass)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if throttled != 0 {
		t.Errorf("the emulator answered %d audit log reads with 429", throttled)
	}
	if notLow != 0 {
		t.Errorf("%d audit log reads were not sent at low throttle priority", notLow)
	}
	if len(sent) != 2*polls {
		t.Errorf("%d audit log reads, want %d (two pages a poll)", len(sent), 2*polls)
	}
	for i := reportsPerTenant; i < len(sent); i++ {
		if d := sent[i].Sub(sent[i-reportsPerTenant]); d < reportsWindow {
			t.Errorf("reads %d and %d were %s apart: %d requests within %s", i-reportsPerTenant+1, i+1, d, reportsPerTenant+1, reportsWindow)
		}
	}
}
