package graph_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// The audit log client (auditlog.go) against the emulator over real HTTPS.

const auditAppID = "11111111-0000-4000-8000-0000000000a1"

// auditClient is a client of tenantA for an app that may read the audit log (permissions:
// perms) and write phones.
func auditClient(t *testing.T, f *fixture, perms ...string) *graph.Client {
	t.Helper()
	f.env.MustAddApp(t, graphemu.App{TenantID: tenantA, ClientID: auditAppID, ClientSecret: secret,
		Permissions: append([]string{graphemu.PermAuthMethodReadWriteAll}, perms...)})
	cred, err := graph.NewCredential(tenantA, f.endpoints(), graph.CredentialSource{ClientID: auditAppID, ClientSecret: secret}, f.env.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	return f.client(t, tenantA, func(c *graph.Config) { c.Credential = cred })
}

// listAudits reads every page and returns the entries and the number of pages.
func listAudits(t *testing.T, c *graph.Client, q graph.AuditQuery) ([]graph.AuditEntry, int, error) {
	t.Helper()
	var all []graph.AuditEntry
	pages := 0
	err := c.ListDirectoryAudits(testContext(t), q, func(es []graph.AuditEntry) error {
		pages++
		all = append(all, es...)
		return nil
	})
	return all, pages, err
}

func TestListDirectoryAudits(t *testing.T) {
	f := newFixture(t)
	c := auditClient(t, f, graphemu.PermAuditLogReadAll)
	start := time.Now().Add(-time.Second)
	ctx := testContext(t)
	if _, err := c.CreatePhoneMethod(ctx, kimID, "mobile", numberKim); err != nil { // by this app
		t.Fatal(err)
	}
	if err := f.env.Emulator.SetPhoneMethod(tenantA, kimID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: numberKim2}); err != nil { // by an admin
		t.Fatal(err)
	}
	if err := f.env.Emulator.AddAuditEntry(tenantA, graphemu.AuditEntry{ActivityDisplayName: "Update user", LoggedByService: "Core Directory",
		InitiatedByUserID: kimID, TargetUserID: kimID}); err != nil {
		t.Fatal(err)
	}
	f.env.Emulator.ResetStats()

	entries, pages, err := listAudits(t, c, graph.AuditQuery{Since: start, Service: graph.ServiceAuthenticationMethods, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || pages != 2 {
		t.Fatalf("want 2 entries of the service on 2 pages of 1, got %d on %d", len(entries), pages)
	}
	if n := f.env.Count(http.MethodGet, graphemu.RouteDirectoryAudits); n != pages {
		t.Errorf("%d pages cost %d GETs", pages, n)
	}
	byApp, byAdmin := entries[1], entries[0] // newest first
	if byApp.InitiatedBy.AppID() != auditAppID || byApp.ActivityDisplayName != graphemu.ActivityAdminRegistered {
		t.Errorf("the app's create: got %+v", byApp)
	}
	if byAdmin.InitiatedBy.AppID() != "" || byAdmin.InitiatedBy.User == nil || byAdmin.ActivityDisplayName != graphemu.ActivityAdminUpdated {
		t.Errorf("the admin's change: got %+v", byAdmin)
	}
	for _, e := range entries {
		if e.ID == "" || e.ActivityDateTime.Before(start) || e.LoggedByService != graph.ServiceAuthenticationMethods ||
			len(e.TargetResources) != 1 || e.TargetResources[0].ID != kimID || e.TargetResources[0].UserPrincipalName != kimUPN {
			t.Errorf("entry: got %+v", e)
		}
	}
}

func TestListDirectoryAuditsSince(t *testing.T) {
	f := newFixture(t)
	c := auditClient(t, f, graphemu.PermAuditLogReadAll)
	now := time.Now()
	for i, age := range []time.Duration{30 * time.Minute, 5 * time.Minute, time.Minute} {
		if err := f.env.Emulator.AddAuditEntry(tenantA, graphemu.AuditEntry{ID: fmt.Sprint("entry-", i), ActivityDisplayName: graphemu.ActivityUserRegistered,
			ActivityDateTime: now.Add(-age), InitiatedByUserID: kimID, TargetUserID: kimID}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := listAudits(t, c, graph.AuditQuery{Since: now.Add(-10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].ID != "entry-2" || entries[1].ID != "entry-1" {
		t.Fatalf("since 10 minutes ago: want entry-2, entry-1; got %+v", entries)
	}
	if _, _, err := listAudits(t, c, graph.AuditQuery{}); graph.ClassOf(err) != graph.Terminal {
		t.Errorf("a query without Since: want a Terminal error, got %v", err)
	}
}

func TestListDirectoryAuditsForbidden(t *testing.T) {
	f := newFixture(t)
	c := auditClient(t, f) // no AuditLog.Read.All
	_, _, err := listAudits(t, c, graph.AuditQuery{Since: time.Now()})
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Class != graph.Forbidden || ge.Status != http.StatusForbidden || ge.Code != "Authentication_MSGraphPermissionMissing" {
		t.Fatalf("want a Forbidden 403 Authentication_MSGraphPermissionMissing, got %v", err)
	}
	if n := f.env.Count(http.MethodGet, graphemu.RouteDirectoryAudits); n != 1 {
		t.Errorf("a 403 was tried %d times; it is not retried", n)
	}
}

func TestListDirectoryAuditsStopsWhenPageFails(t *testing.T) {
	f := newFixture(t)
	c := auditClient(t, f, graphemu.PermAuditLogReadAll)
	for range 3 {
		if err := f.env.Emulator.AddAuditEntry(tenantA, graphemu.AuditEntry{ActivityDisplayName: graphemu.ActivityUserRegistered,
			InitiatedByUserID: kimID, TargetUserID: kimID}); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("enough")
	calls := 0
	err := c.ListDirectoryAudits(testContext(t), graph.AuditQuery{Since: time.Now().Add(-time.Hour), PageSize: 1}, func([]graph.AuditEntry) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("want the callback's error after one page, got %v after %d", err, calls)
	}
}
