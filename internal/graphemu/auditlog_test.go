package graphemu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// The audit log (docs/emulator.md, "Audit log"), asserted over HTTP against Graph's documented
// behaviour, independent of phoneop's client.

const auditApp = "aaaaaaaa-0000-0000-0000-0000000000a1"

type auditPage struct {
	NextLink string `json:"@odata.nextLink"`
	Value    []struct {
		ID                  string    `json:"id"`
		Category            string    `json:"category"`
		ActivityDisplayName string    `json:"activityDisplayName"`
		ActivityDateTime    time.Time `json:"activityDateTime"`
		LoggedByService     string    `json:"loggedByService"`
		InitiatedBy         struct {
			User *struct {
				ID                string `json:"id"`
				UserPrincipalName string `json:"userPrincipalName"`
			} `json:"user"`
			App *struct {
				AppID string `json:"appId"`
			} `json:"app"`
		} `json:"initiatedBy"`
		TargetResources []struct {
			ID                string `json:"id"`
			Type              string `json:"type"`
			UserPrincipalName string `json:"userPrincipalName"`
		} `json:"targetResources"`
	} `json:"value"`
}

// auditEnv is env plus an app that may read the audit log and write phones.
func auditEnv(t *testing.T, opts graphemu.Options) (*env, string) {
	t.Helper()
	en := newEnv(t, opts)
	must(t, en.e.AddApp(graphemu.App{TenantID: tenantID, ClientID: auditApp, ClientSecret: secret,
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermAuditLogReadAll}}))
	return en, en.getToken(t, auditApp)
}

// audits lists the audit log with the given OData query, following no links.
func (en *env) audits(t *testing.T, token, query string) (int, auditPage, []byte) {
	t.Helper()
	status, body := en.get(t, "/v1.0/auditLogs/directoryAudits"+query, token)
	var p auditPage
	if status == http.StatusOK {
		must(t, json.Unmarshal(body, &p))
	}
	return status, p, body
}

func filterSince(at time.Time, more ...string) string {
	f := "activityDateTime ge " + at.UTC().Format("2006-01-02T15:04:05Z")
	for _, m := range more {
		f += " and " + m
	}
	return "?$filter=" + url.QueryEscape(f)
}

func TestAuditLogRecordsGraphWritesAndOutOfBandEdits(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{DisableThrottling: true})
	start := en.clk.Now().Add(-time.Second)
	resp, body := en.do(t, http.MethodPost, phonePath(kimUPN), token, `{"phoneType":"mobile","phoneNumber":"+1 2065550100"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	en.clk.Advance(time.Second)
	must(t, en.e.SetPhoneMethod(tenantID, leeID, graphemu.PhoneMethod{PhoneType: graphemu.Mobile, PhoneNumber: "+1 2065550101"}))
	en.clk.Advance(time.Second)
	// A write that changes nothing is not a change: no entry.
	resp, _ = en.do(t, http.MethodPatch, phonePath(kimUPN, "/", methodid.Mobile), token, `{"phoneNumber":"+1 2065550100"}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("no-op patch: %d", resp.StatusCode)
	}

	status, p, body := en.audits(t, token, filterSince(start, "loggedByService eq 'Authentication Methods'"))
	if status != http.StatusOK || len(p.Value) != 2 {
		t.Fatalf("want 2 entries, got %d: %s", status, body)
	}
	oob, graphWrite := p.Value[0], p.Value[1] // newest first
	if graphWrite.ActivityDisplayName != graphemu.ActivityAdminRegistered || graphWrite.InitiatedBy.App == nil ||
		graphWrite.InitiatedBy.App.AppID != auditApp || graphWrite.InitiatedBy.User != nil {
		t.Errorf("Graph write: want %q initiated by app %s, got %+v", graphemu.ActivityAdminRegistered, auditApp, graphWrite)
	}
	if oob.ActivityDisplayName != graphemu.ActivityAdminRegistered || oob.InitiatedBy.User == nil || oob.InitiatedBy.App != nil ||
		oob.InitiatedBy.User.ID != graphemu.Admin.ID {
		t.Errorf("out-of-band edit: want %q initiated by the admin user, got %+v", graphemu.ActivityAdminRegistered, oob)
	}
	for _, e := range p.Value {
		if e.Category != "UserManagement" || e.LoggedByService != "Authentication Methods" || len(e.TargetResources) != 1 || e.TargetResources[0].Type != "User" {
			t.Errorf("entry %s: want category UserManagement, service Authentication Methods and one User target, got %+v", e.ID, e)
		}
	}
	if graphWrite.TargetResources[0].ID != kimID || graphWrite.TargetResources[0].UserPrincipalName != kimUPN || oob.TargetResources[0].ID != leeID {
		t.Errorf("targets: got %+v and %+v", graphWrite.TargetResources, oob.TargetResources)
	}
	if strings.Contains(string(body), "2065550") {
		t.Errorf("an audit entry carries a phone number: %s", body)
	}
}

func TestAuditLogActivities(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{DisableThrottling: true})
	mobile := phonePath(kimID, "/", methodid.Mobile)
	cases := []struct {
		name, method, path, body string
		wantActivity             string
	}{
		{"create", http.MethodPost, phonePath(kimID), `{"phoneType":"mobile","phoneNumber":"+1 2065550100"}`, graphemu.ActivityAdminRegistered},
		{"number change", http.MethodPatch, mobile, `{"phoneNumber":"+1 2065550199"}`, graphemu.ActivityAdminUpdated},
		{"SMS sign-in off", http.MethodPost, mobile + "/disableSmsSignIn", "", graphemu.ActivityAdminUpdated},
		{"delete", http.MethodDelete, mobile, "", graphemu.ActivityAdminDeleted},
	}
	since := en.clk.Now().Add(-time.Second)
	for _, tc := range cases {
		en.clk.Advance(time.Second) // distinct activityDateTimes, so newest-first is this order reversed
		resp, body := en.do(t, tc.method, tc.path, token, tc.body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: %d %s", tc.name, resp.StatusCode, body)
		}
	}
	if err := en.e.DeletePhoneMethod(tenantID, kimID, graphemu.Mobile); err == nil { // nothing to delete: an error, no entry
		t.Fatal("deleting an absent method out of band succeeded")
	}
	_, p, _ := en.audits(t, token, filterSince(since)+"&$orderby=activityDateTime+asc")
	if len(p.Value) != len(cases) {
		t.Fatalf("want %d entries, got %d", len(cases), len(p.Value))
	}
	for i, tc := range cases {
		if got := p.Value[i].ActivityDisplayName; got != tc.wantActivity {
			t.Errorf("%s: activity %q, want %q", tc.name, got, tc.wantActivity)
		}
	}
}

func TestAuditLogDeliveryLag(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{DisableThrottling: true, AuditLag: 2 * time.Minute})
	changed := en.clk.Now()
	must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: graphemu.Mobile, PhoneNumber: "+1 2065550100"}))
	query := filterSince(changed.Add(-time.Minute))
	en.clk.Advance(2*time.Minute - time.Second)
	if _, p, _ := en.audits(t, token, query); len(p.Value) != 0 {
		t.Fatalf("an entry is readable before the audit lag has passed")
	}
	en.clk.Advance(time.Second)
	_, p, _ := en.audits(t, token, query)
	if len(p.Value) != 1 {
		t.Fatalf("want the entry once the audit lag has passed, got %d", len(p.Value))
	}
	if p.Value[0].ActivityDateTime.Sub(changed).Abs() > time.Millisecond {
		t.Errorf("activityDateTime %s, want the time of the change %s, not of its delivery", p.Value[0].ActivityDateTime, changed)
	}
}

func TestAuditLogFilter(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{DisableThrottling: true})
	base := en.clk.Now()
	must(t, en.e.AddAuditEntry(tenantID, graphemu.AuditEntry{ActivityDisplayName: graphemu.ActivityUserRegistered,
		ActivityDateTime: base.Add(-10 * time.Minute), InitiatedByUserID: kimID, TargetUserID: kimID, TargetUPN: kimUPN}))
	must(t, en.e.AddAuditEntry(tenantID, graphemu.AuditEntry{ActivityDisplayName: "Update user", LoggedByService: "Core Directory",
		ActivityDateTime: base.Add(-time.Minute), InitiatedByUserID: leeID, TargetUserID: leeID}))
	must(t, en.e.AddAuditEntry(tenantID, graphemu.AuditEntry{ActivityDisplayName: graphemu.ActivityAdminDeleted,
		ActivityDateTime: base.Add(-time.Minute), InitiatedByAppID: rwApp, TargetUserID: maxID}))
	cases := map[string]struct {
		query      string
		wantStatus int
		wantCount  int
	}{
		"everything":                        {query: "", wantStatus: 200, wantCount: 3},
		"since a time":                      {query: filterSince(base.Add(-5 * time.Minute)), wantStatus: 200, wantCount: 2},
		"since a time, one service":         {query: filterSince(base.Add(-5*time.Minute), "loggedByService eq 'Authentication Methods'"), wantStatus: 200, wantCount: 1},
		"the service compares without case": {query: "?$filter=" + url.QueryEscape("loggedByService eq 'authentication methods'"), wantStatus: 200, wantCount: 2},
		"a time window":                     {query: "?$filter=" + url.QueryEscape("activityDateTime ge "+base.Add(-time.Hour).UTC().Format(time.RFC3339)+" and activityDateTime le "+base.Add(-5*time.Minute).UTC().Format(time.RFC3339)), wantStatus: 200, wantCount: 1},
		"an activity by prefix":             {query: "?$filter=" + url.QueryEscape("startswith(activityDisplayName,'User')"), wantStatus: 200, wantCount: 1},
		"the category":                      {query: "?$filter=" + url.QueryEscape("category eq 'UserManagement'"), wantStatus: 200, wantCount: 3},
		"an unknown property is refused":    {query: "?$filter=" + url.QueryEscape("result eq 'success'"), wantStatus: 400},
		"a time that does not parse":        {query: "?$filter=" + url.QueryEscape("activityDateTime ge yesterday"), wantStatus: 400},
		"an unsupported option is refused":  {query: "?$count=true", wantStatus: 400},
		"$top beyond 999 is refused":        {query: "?$top=1000", wantStatus: 400},
		"an unknown order is refused":       {query: "?$orderby=id", wantStatus: 400},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, p, body := en.audits(t, token, tc.query)
			if status != tc.wantStatus || (status == 200 && len(p.Value) != tc.wantCount) {
				t.Errorf("want %d with %d entries, got %d with %d: %s", tc.wantStatus, tc.wantCount, status, len(p.Value), body)
			}
		})
	}
}

func TestAuditLogPaging(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{DisableThrottling: true})
	for i := range 25 {
		must(t, en.e.AddAuditEntry(tenantID, graphemu.AuditEntry{ActivityDisplayName: graphemu.ActivityUserUpdated,
			ActivityDateTime: en.clk.Now().Add(time.Duration(-i) * time.Second), InitiatedByUserID: kimID, TargetUserID: kimID}))
	}
	seen, pages := map[string]bool{}, 0
	var last time.Time
	path := "/v1.0/auditLogs/directoryAudits?$top=10"
	for path != "" {
		status, body := en.get(t, path, token)
		if status != 200 {
			t.Fatalf("page %d: %d %s", pages, status, body)
		}
		var p auditPage
		must(t, json.Unmarshal(body, &p))
		pages++
		for _, e := range p.Value {
			if seen[e.ID] {
				t.Errorf("entry %s on two pages", e.ID)
			}
			if !last.IsZero() && e.ActivityDateTime.After(last) {
				t.Errorf("entries not newest first")
			}
			seen[e.ID], last = true, e.ActivityDateTime
		}
		path = ""
		if p.NextLink != "" {
			u, err := url.Parse(p.NextLink)
			must(t, err)
			if u.Host != strings.TrimPrefix(en.srv.URL, "https://") {
				t.Fatalf("next link on another host: %s", p.NextLink)
			}
			path = u.RequestURI()
		}
	}
	if len(seen) != 25 || pages != 3 {
		t.Errorf("want 25 entries on 3 pages, got %d on %d", len(seen), pages)
	}
}

func TestAuditLogPermissionAndThrottling(t *testing.T) {
	en, _ := auditEnv(t, graphemu.Options{ThrottleScale: 0.001})           // a 3-RU bucket
	status, body := en.get(t, "/v1.0/auditLogs/directoryAudits", en.token) // rwApp lacks AuditLog.Read.All
	if status != http.StatusForbidden || errCode(body) != "Authentication_MSGraphPermissionMissing" {
		t.Fatalf("without AuditLog.Read.All: want 403 Authentication_MSGraphPermissionMissing, got %d %s", status, body)
	}
	token := en.getToken(t, auditApp)
	throttled := false
	for range 10 {
		if status, _ := en.get(t, "/v1.0/auditLogs/directoryAudits", token); status == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Error("reads of the audit log are never throttled; they have a reports limit of their own")
	}
	if n := en.e.Count(http.MethodGet, graphemu.RouteDirectoryAudits); n < 2 {
		t.Errorf("stats count %d audit log reads under %s", n, graphemu.RouteDirectoryAudits)
	}
}

func TestAuditLogSeedIsNotAChange(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.LoadSeed(graphemu.Seed{Users: []graphemu.SeedUser{{User: graphemu.User{TenantID: tenantID, ID: kimID, UserPrincipalName: kimUPN},
		PhoneMethods: []graphemu.PhoneMethod{{PhoneType: graphemu.Mobile, PhoneNumber: "+1 2065550100"}}}}}))
	if _, p, _ := en.audits(t, token, ""); len(p.Value) != 0 {
		t.Errorf("a seed wrote %d audit entries; seeds are the state before the emulator started", len(p.Value))
	}
	en.e.Reset()
	if n := len(en.e.AuditEntries(tenantID)); n != 0 {
		t.Errorf("Reset kept %d audit entries", n)
	}
}

// TestAuditLogHasItsOwnReportsLimit: the audit log is limited as an identity-and-access
// report, 5 requests per 10 s per app and tenant, apart from the directory's resource units:
// the 6th read within the window is answered 429 with Retry-After and a reports scope, while
// the directory still answers; after Retry-After the log answers again.
func TestAuditLogHasItsOwnReportsLimit(t *testing.T) {
	en, token := auditEnv(t, graphemu.Options{})
	for i := range graphemu.ReportsPerTenantLimit {
		if status, body := en.get(t, "/v1.0/auditLogs/directoryAudits", token); status != http.StatusOK {
			t.Fatalf("read %d of the audit log: %d %s", i+1, status, body)
		}
	}
	resp, body := en.do(t, http.MethodGet, "/v1.0/auditLogs/directoryAudits", token, "")
	if resp.StatusCode != http.StatusTooManyRequests || errCode(body) != "TooManyRequests" {
		t.Fatalf("read %d within the window: want 429, got %d %s", graphemu.ReportsPerTenantLimit+1, resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("x-ms-throttle-scope"), "Tenant_Application/Reports/"+auditApp+"/"+tenantID; got != want {
		t.Errorf("x-ms-throttle-scope %q, want %q", got, want)
	}
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 3 {
		t.Errorf("Retry-After %q, want the 1-2 s until one request fits again", resp.Header.Get("Retry-After"))
	}
	if resp, body := en.do(t, http.MethodGet, phonePath(kimID), token, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the directory answered %d %s while the audit log was throttled; its buckets are separate", resp.StatusCode, body)
	}
	en.clk.Advance(time.Duration(retry) * time.Second)
	if status, body := en.get(t, "/v1.0/auditLogs/directoryAudits", token); status != http.StatusOK {
		t.Errorf("after Retry-After: %d %s", status, body)
	}
}
