package changefeed

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/conditions"
	"github.com/phoneop/phoneop/internal/fieldindex"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/observe"
	"github.com/phoneop/phoneop/internal/tenantconn"
	"github.com/phoneop/phoneop/internal/userindex"
)

// Unit tests of the change feed's pure parts and of one poll against a fake Graph and a fake
// cache (`go test ./controllers -run Unit`). The envtest tests run it against the emulator.

var unitNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestFeedHealth(t *testing.T) {
	base := feedFacts{now: unitNow, interval: time.Minute, sweep: 24 * time.Hour, trusted: true, okSince: unitNow.Add(-time.Minute)}
	cases := map[string]struct {
		// policy inputs
		facts func(f *feedFacts)
		// expected outputs
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		"a working feed is healthy":                 {facts: func(*feedFacts) {}, wantStatus: metav1.ConditionTrue, wantReason: identityv1alpha1.ReasonAuditLogRead},
		"before the first poll the feed is unknown": {facts: func(f *feedFacts) { f.trusted = false }, wantStatus: metav1.ConditionUnknown, wantReason: identityv1alpha1.ReasonChangeFeedStarting},
		"a 403 fails at once": {facts: func(f *feedFacts) { f.failing, f.failClass = true, graph.Forbidden },
			wantStatus: metav1.ConditionFalse, wantReason: identityv1alpha1.ReasonAuditLogForbidden},
		"a short outage keeps the feed healthy: the next poll reads from the same watermark": {
			facts: func(f *feedFacts) {
				f.failing, f.failClass, f.okSince = true, graph.Transient, unitNow.Add(-4*time.Minute)
			},
			wantStatus: metav1.ConditionTrue, wantReason: identityv1alpha1.ReasonAuditLogRead},
		"an outage longer than five minutes fails": {
			facts: func(f *feedFacts) {
				f.failing, f.failClass, f.okSince = true, graph.Transient, unitNow.Add(-5*time.Minute)
			},
			wantStatus: metav1.ConditionFalse, wantReason: identityv1alpha1.ReasonAuditLogUnavailable},
		"long throttling has its own reason": {
			facts: func(f *feedFacts) {
				f.failing, f.failClass, f.okSince = true, graph.Throttled, unitNow.Add(-6*time.Minute)
			},
			wantStatus: metav1.ConditionFalse, wantReason: identityv1alpha1.ReasonAuditLogThrottled},
		"a slow poll interval tolerates three missed polls": {
			facts: func(f *feedFacts) {
				f.interval, f.failing, f.failClass, f.okSince = 10*time.Minute, true, graph.Throttled, unitNow.Add(-29*time.Minute)
			},
			wantStatus: metav1.ConditionTrue, wantReason: identityv1alpha1.ReasonAuditLogRead},
		"after a gap the feed is not trusted for a resync period": {facts: func(f *feedFacts) { f.gapUntil = unitNow.Add(time.Second) },
			wantStatus: metav1.ConditionFalse, wantReason: identityv1alpha1.ReasonAuditLogGap},
		"once the resync period after a gap has passed the feed is trusted again": {facts: func(f *feedFacts) { f.gapUntil = unitNow },
			wantStatus: metav1.ConditionTrue, wantReason: identityv1alpha1.ReasonAuditLogRead},
		"a gap wins over a 403": {facts: func(f *feedFacts) { f.gapUntil, f.failing, f.failClass = unitNow.Add(time.Hour), true, graph.Forbidden },
			wantStatus: metav1.ConditionFalse, wantReason: identityv1alpha1.ReasonAuditLogGap},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := base
			tc.facts(&f)
			h := decideHealth(f)
			if h.status != tc.wantStatus || h.reason != tc.wantReason {
				t.Errorf("%s: got %s/%s (%s), want %s/%s", name, h.status, h.reason, h.message, tc.wantStatus, tc.wantReason)
			}
			if h.message == "" {
				t.Error("no message")
			}
		})
	}
}

func TestPollWindow(t *testing.T) {
	cases := map[string]struct {
		watermark time.Time
		wantSince time.Time
		wantGap   bool
	}{
		"each poll reaches back the overlap before the last one":      {unitNow.Add(-time.Minute), unitNow.Add(-11 * time.Minute), false},
		"after a restart the overlap still applies":                   {unitNow.Add(-3 * time.Hour), unitNow.Add(-3*time.Hour - 10*time.Minute), false},
		"a watermark just within retention has no gap":                {unitNow.Add(-auditRetention + feedOverlap), unitNow.Add(-auditRetention), false},
		"a watermark whose overlap reaches beyond retention is a gap": {unitNow.Add(-auditRetention + feedOverlap - time.Second), unitNow.Add(-auditRetention - time.Second), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			since, gap := pollWindow(tc.watermark, unitNow)
			if !since.Equal(tc.wantSince) || gap != tc.wantGap {
				t.Errorf("pollWindow = %s, gap %v; want %s, gap %v", since, gap, tc.wantSince, tc.wantGap)
			}
		})
	}
}

func auditEntry(id string, at time.Time, byApp, target string) graph.AuditEntry {
	e := graph.AuditEntry{ID: id, ActivityDateTime: at, Result: "success", ActivityDisplayName: "Admin updated security info",
		LoggedByService: graph.ServiceAuthenticationMethods, TargetResources: []graph.AuditTarget{{ID: target, Type: "User", UserPrincipalName: target + "@contoso.com"}}}
	if byApp != "" {
		e.InitiatedBy.App = &struct {
			AppID string `json:"appId"`
		}{AppID: byApp}
	}
	return e
}

func ids(entries []graph.AuditEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

func TestSeenEntriesDropOverlappingReads(t *testing.T) {
	s := seenEntries{}
	first := []graph.AuditEntry{auditEntry("a", unitNow.Add(-20*time.Minute), "", "u1"), auditEntry("b", unitNow.Add(-time.Minute), "", "u2")}
	if got := ids(s.admit(first)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("first poll: admitted %v", got)
	}
	// The next poll overlaps: b again, and c, which arrived late with an older time.
	second := []graph.AuditEntry{auditEntry("b", unitNow.Add(-time.Minute), "", "u2"), auditEntry("c", unitNow.Add(-8*time.Minute), "", "u3")}
	if got := ids(s.admit(second)); !slices.Equal(got, []string{"c"}) {
		t.Errorf("overlapping poll: admitted %v, want only the late entry c", got)
	}
	s.forgetBefore(unitNow.Add(-10 * time.Minute))
	if _, ok := s["a"]; ok || len(s) != 2 {
		t.Errorf("forgetBefore kept %v; want b and c only (a is older than any later query)", s)
	}
	if got := s.admit([]graph.AuditEntry{{ID: ""}}); len(got) != 0 {
		t.Errorf("an entry without id was admitted")
	}
}

func TestTriage(t *testing.T) {
	const own = "11111111-0000-4000-8000-0000000000aa"
	failed := auditEntry("f", unitNow, "", "u5")
	failed.Result = "failure"
	group := auditEntry("g", unitNow, "", "g1")
	group.TargetResources[0].Type = "Group"
	ownWrite := recordedWrite{tenantID: "tenant-1", userID: "u1", phoneType: "mobile", kind: kindUpdate, at: unitNow}
	ownFailed := auditEntry("of", unitNow, own, "u9")
	ownFailed.Result = "failure"
	cases := map[string]struct {
		entries     []graph.AuditEntry
		writes      []recordedWrite
		want        []changedUser
		wantSuspect []string // entry ids
	}{
		"an admin's change wakes its user": {entries: []graph.AuditEntry{auditEntry("1", unitNow, "", "u1")},
			want: []changedUser{{id: "u1", upn: "u1@contoso.com"}}},
		"another app's change wakes its user": {entries: []graph.AuditEntry{auditEntry("1", unitNow, "22222222-0000-4000-8000-0000000000bb", "u1")},
			want: []changedUser{{id: "u1", upn: "u1@contoso.com"}}},
		"phoneop's own recorded writes wake nobody (the client id compares without case)": {
			entries: []graph.AuditEntry{auditEntry("1", unitNow, own, "u1"), auditEntry("2", unitNow.Add(time.Second), "11111111-0000-4000-8000-0000000000AA", "U1")},
			writes:  []recordedWrite{ownWrite}},
		"a change with phoneop's app id that phoneop did not record wakes its user and is suspect": {
			entries: []graph.AuditEntry{auditEntry("1", unitNow, own, "u2")}, writes: []recordedWrite{ownWrite},
			want: []changedUser{{id: "u2", upn: "u2@contoso.com"}}, wantSuspect: []string{"1"}},
		"after a restart no write is recorded: phoneop's entry is suspect (a false alarm, never a missed one)": {
			entries: []graph.AuditEntry{auditEntry("1", unitNow, own, "u1")},
			want:    []changedUser{{id: "u1", upn: "u1@contoso.com"}}, wantSuspect: []string{"1"}},
		"a failed attempt with phoneop's app id wakes nobody but is suspect": {entries: []graph.AuditEntry{ownFailed}, wantSuspect: []string{"of"}},
		"a user with several entries is woken once": {entries: []graph.AuditEntry{auditEntry("1", unitNow, "", "u1"), auditEntry("2", unitNow, "", "U1")},
			want: []changedUser{{id: "u1", upn: "u1@contoso.com"}}},
		"a failed change wakes nobody":           {entries: []graph.AuditEntry{failed}},
		"a target that is not a user is skipped": {entries: []graph.AuditEntry{group}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, suspect := triage("tenant-1", own, tc.entries, tc.writes)
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(changedUser{})); d != "" {
				t.Errorf("users to wake (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantSuspect, ids(suspect)); d != "" {
				t.Errorf("suspect entries (-want +got):\n%s", d)
			}
		})
	}
}

func TestAttributed(t *testing.T) {
	write := recordedWrite{tenantID: "tenant-1", userID: "u1", phoneType: "mobile", kind: kindUpdate, at: unitNow}
	entry := func(activity string, at time.Time, user string) graph.AuditEntry {
		e := auditEntry("e", at, unitOwnApp, user)
		e.ActivityDisplayName = activity
		return e
	}
	cases := map[string]struct {
		tenant string
		entry  graph.AuditEntry
		writes []recordedWrite
		want   bool
	}{
		"the write's own entry":                   {"tenant-1", entry("Admin updated security info", unitNow.Add(3*time.Second), "u1"), []recordedWrite{write}, true},
		"tenant and user compare without case":    {"TENANT-1", entry("Admin updated security info", unitNow, "U1"), []recordedWrite{write}, true},
		"Graph applied it up to the slack late":   {"tenant-1", entry("Admin updated security info", unitNow.Add(attributionSlack), "u1"), []recordedWrite{write}, true},
		"later than the slack":                    {"tenant-1", entry("Admin updated security info", unitNow.Add(attributionSlack+time.Second), "u1"), []recordedWrite{write}, false},
		"earlier than the slack (clock skew)":     {"tenant-1", entry("Admin updated security info", unitNow.Add(-attributionSlack-time.Second), "u1"), []recordedWrite{write}, false},
		"another user":                            {"tenant-1", entry("Admin updated security info", unitNow, "u2"), []recordedWrite{write}, false},
		"another tenant":                          {"tenant-2", entry("Admin updated security info", unitNow, "u1"), []recordedWrite{write}, false},
		"a delete is not the update phoneop made": {"tenant-1", entry("Admin deleted security info", unitNow, "u1"), []recordedWrite{write}, false},
		"a registration matches a create": {"tenant-1", entry("Admin registered security info", unitNow, "u1"),
			[]recordedWrite{{tenantID: "tenant-1", userID: "u1", phoneType: "office", kind: kindRegister, at: unitNow}}, true},
		"a change of default is never phoneop's": {"tenant-1", entry("User changed default security info", unitNow, "u1"), []recordedWrite{write}, false},
		"no write recorded":                      {"tenant-1", entry("Admin updated security info", unitNow, "u1"), nil, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := attributed(tc.tenant, tc.entry, tc.writes); got != tc.want {
				t.Errorf("attributed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWriteLogRecordsEveryWriteAndStaysBounded(t *testing.T) {
	clock := unitNow
	log := &WriteLog{Now: func() time.Time { return clock }}
	api := log.Recording("Tenant-1", &graphtest.FakeAPI{})
	ctx := context.Background()
	_, _ = api.CreatePhoneMethod(ctx, "U1", "office", "+1 2065550100")
	_ = api.UpdatePhoneNumber(ctx, "u2", methodid.Mobile, "mobile", "+1 2065550101")
	_ = api.DeletePhoneMethod(ctx, "u3", methodid.AlternateMobile)
	_ = api.EnableSMSSignIn(ctx, "u4", methodid.Mobile)
	_ = api.DisableSMSSignIn(ctx, "u5", methodid.Mobile)
	want := []recordedWrite{
		{tenantID: "tenant-1", userID: "u1", phoneType: "office", kind: kindRegister, at: unitNow},
		{tenantID: "tenant-1", userID: "u2", phoneType: "mobile", kind: kindUpdate, at: unitNow},
		{tenantID: "tenant-1", userID: "u3", phoneType: "alternateMobile", kind: kindDelete, at: unitNow},
		{tenantID: "tenant-1", userID: "u4", phoneType: "mobile", kind: kindUpdate, at: unitNow},
		{tenantID: "tenant-1", userID: "u5", phoneType: "mobile", kind: kindUpdate, at: unitNow},
	}
	if d := cmp.Diff(want, log.ofTenant("TENANT-1"), cmp.AllowUnexported(recordedWrite{})); d != "" {
		t.Errorf("recorded writes (-want +got):\n%s", d)
	}
	clock = unitNow.Add(writeRetention + time.Second)
	_ = api.UpdatePhoneNumber(ctx, "u6", methodid.Mobile, "mobile", "+1 2065550102")
	if got := log.Len(); got != 1 {
		t.Errorf("%d writes kept after the retention, want only the new one", got)
	}
	for range maxRecordedWrites + 10 {
		_ = api.UpdatePhoneNumber(ctx, "u7", methodid.Mobile, "mobile", "+1 2065550103")
	}
	if got := log.Len(); got != maxRecordedWrites {
		t.Errorf("%d writes kept, want the bound %d", got, maxRecordedWrites)
	}
}

func TestTenantWatchIgnoresTheFeedsOwnStatus(t *testing.T) {
	old := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso", ResourceVersion: "1", Generation: 1}}
	conditions.Set(&old.Status.Conditions, 1, identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSynced, "ok")
	cases := map[string]struct {
		change func(n *identityv1alpha1.EntraTenant)
		want   bool
	}{
		"a new watermark is not for the objects": {change: func(n *identityv1alpha1.EntraTenant) {
			n.Status.ChangeFeed = &identityv1alpha1.ChangeFeedStatus{Watermark: &metav1.Time{Time: unitNow}}
		}, want: false},
		"the ChangeFeed condition is not for the objects (the feed reschedules them itself)": {change: func(n *identityv1alpha1.EntraTenant) {
			conditions.Set(&n.Status.Conditions, 1, identityv1alpha1.ConditionChangeFeed, metav1.ConditionTrue, identityv1alpha1.ReasonAuditLogRead, "ok")
		}, want: false},
		"Ready turning False wakes them": {change: func(n *identityv1alpha1.EntraTenant) {
			conditions.Set(&n.Status.Conditions, 1, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonCredentialsInvalid, "no")
		}, want: true},
		"a spec change wakes them": {change: func(n *identityv1alpha1.EntraTenant) {
			n.Generation, n.Spec.UserScope.DeniedUsers = 2, []string{"kim@contoso.com"}
		}, want: true},
		"a pause annotation wakes them": {change: func(n *identityv1alpha1.EntraTenant) {
			n.Annotations = map[string]string{identityv1alpha1.AnnotationPaused: "true"}
		}, want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := old.DeepCopy()
			n.ResourceVersion = "2"
			tc.change(n)
			if got := NotOnlyFeedStatus.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: n}); got != tc.want {
				t.Errorf("passes = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTakeOverFromStatus(t *testing.T) {
	tenant := func(watermark time.Duration, condition metav1.ConditionStatus) *identityv1alpha1.EntraTenant {
		et := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso", UID: "u"},
			Spec: identityv1alpha1.EntraTenantSpec{ChangeFeed: &identityv1alpha1.ChangeFeed{Enabled: true}}}
		if watermark != 0 {
			et.Status.ChangeFeed = &identityv1alpha1.ChangeFeedStatus{Watermark: &metav1.Time{Time: unitNow.Add(-watermark)}}
			conditions.Set(&et.Status.Conditions, 0, identityv1alpha1.ConditionChangeFeed, condition, "x", "x")
		}
		return et
	}
	cases := map[string]struct {
		tenant        *identityv1alpha1.EntraTenant
		wantWatermark time.Time
		wantHealthy   bool
	}{
		"a feed never run starts now, not yet trusted": {tenant: tenant(0, ""), wantWatermark: unitNow, wantHealthy: false},
		"a healthy feed resumes healthy from its watermark, so objects keep sweeping": {
			tenant: tenant(3*time.Minute, metav1.ConditionTrue), wantWatermark: unitNow.Add(-3 * time.Minute), wantHealthy: true},
		"a failing feed resumes failing": {tenant: tenant(3*time.Minute, metav1.ConditionFalse), wantWatermark: unitNow.Add(-3 * time.Minute), wantHealthy: false},
		"a watermark beyond retention is not trusted (the first poll restarts after the gap)": {
			tenant: tenant(8*24*time.Hour, metav1.ConditionTrue), wantWatermark: unitNow.Add(-8 * 24 * time.Hour), wantHealthy: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			feed := takeOver(tc.tenant, unitNow)
			if !feed.watermark.Equal(tc.wantWatermark) || feed.health.healthy() != tc.wantHealthy {
				t.Errorf("watermark %s, healthy %v; want %s, %v", feed.watermark, feed.health.healthy(), tc.wantWatermark, tc.wantHealthy)
			}
		})
	}
}

func TestWakeEnqueuesNowOrAtTheNormalSlot(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	key := types.NamespacedName{Namespace: "team", Name: "kim-mobile"}
	enqueueWake(context.Background(), event.TypedGenericEvent[wakeEvent]{Object: wakeEvent{key: key, after: time.Hour}}, q)
	if q.Len() != 0 {
		t.Fatalf("a wake for later was queued at once")
	}
	enqueueWake(context.Background(), event.TypedGenericEvent[wakeEvent]{Object: wakeEvent{key: key}}, q)
	if q.Len() != 1 {
		t.Fatalf("a wake for now was not queued")
	}
}

// auditAPI is a FakeAPI that also reads a scripted audit log: each poll gets the next answer.
type auditAPI struct {
	graphtest.FakeAPI
	mu      sync.Mutex
	answers []func(graph.AuditQuery) ([]graph.AuditEntry, error)
	queries []graph.AuditQuery
}

func (a *auditAPI) ListDirectoryAudits(_ context.Context, q graph.AuditQuery, page func([]graph.AuditEntry) error) error {
	a.mu.Lock()
	a.queries = append(a.queries, q)
	next := a.answers[0]
	if len(a.answers) > 1 {
		a.answers = a.answers[1:]
	}
	a.mu.Unlock()
	entries, err := next(q)
	if err != nil {
		return err
	}
	return page(entries)
}

func answer(entries ...graph.AuditEntry) func(graph.AuditQuery) ([]graph.AuditEntry, error) {
	return func(graph.AuditQuery) ([]graph.AuditEntry, error) { return entries, nil }
}

// fixedConnector hands out one connection.
type fixedConnector struct{ conn *tenantconn.Connection }

func (c fixedConnector) Connect(context.Context, *identityv1alpha1.EntraTenant) (*tenantconn.Connection, error) {
	return c.conn, nil
}

// feedWorld is a Feeds over a fake cache holding one tenant with the feed on and kim's
// and lee's mobiles, and a scripted audit log.
type feedWorld struct {
	f      *Feeds
	api    *auditAPI
	k8s    client.Client
	tenant *identityv1alpha1.EntraTenant
	clock  time.Time
}

const unitOwnApp = "11111111-0000-4000-8000-0000000000aa"

func newFeedWorld(t *testing.T) *feedWorld {
	t.Helper()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso", UID: "tenant-uid", Generation: 1},
		Spec: identityv1alpha1.EntraTenantSpec{TenantID: "tenant-1", ChangeFeed: &identityv1alpha1.ChangeFeed{Enabled: true},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: unitOwnApp}}}}
	objs := []client.Object{tenant}
	for _, u := range []string{"kim", "lee"} {
		objs = append(objs, &identityv1alpha1.PhoneAuthMethod{
			ObjectMeta: metav1.ObjectMeta{Name: u + "-mobile", Namespace: "team"},
			Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
				User: u + "@contoso.com", PhoneType: identityv1alpha1.PhoneTypeMobile, PhoneNumber: "+1 2065550199"},
			Status: identityv1alpha1.PhoneAuthMethodStatus{UserID: u + "-id"}})
	}
	k8s := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithStatusSubresource(&identityv1alpha1.EntraTenant{}).
		WithIndex(&identityv1alpha1.PhoneAuthMethod{}, fieldindex.Tenant, func(o client.Object) []string {
			return []string{o.(*identityv1alpha1.PhoneAuthMethod).Spec.TenantRef.Name}
		}).Build()
	users := userindex.New()
	for _, o := range objs {
		users.OnAdd(o, true)
	}
	api := &auditAPI{}
	w := &feedWorld{api: api, k8s: k8s, tenant: tenant, clock: unitNow}
	w.f = &Feeds{Client: k8s, Connector: fixedConnector{&tenantconn.Connection{TenantID: "tenant-1", Client: api}},
		Observer: &observe.Observer{TTL: time.Minute}, UserIndex: users, ResyncPeriod: time.Hour, Now: func() time.Time { return w.clock },
		Writes: &WriteLog{Now: func() time.Time { return w.clock }},
		wakes:  make(chan event.TypedGenericEvent[wakeEvent], 100)}
	return w
}

// pollOnce runs one poll to its end, as Start would when it is due.
func (w *feedWorld) pollOnce(t *testing.T) {
	t.Helper()
	var et identityv1alpha1.EntraTenant
	if err := w.k8s.Get(context.Background(), client.ObjectKey{Name: "contoso"}, &et); err != nil {
		t.Fatal(err)
	}
	feed := w.f.due(&et)
	if feed == nil {
		t.Fatal("no poll was due")
	}
	w.f.poll(context.Background(), &et, feed)
}

// woken drains the wake events: names woken now, and how many were sent for later.
func (w *feedWorld) woken() (now []string, later int) {
	for {
		select {
		case e := <-w.f.wakes:
			if e.Object.after > 0 {
				later++
			} else {
				now = append(now, e.Object.key.Name)
			}
		default:
			slices.Sort(now)
			return now, later
		}
	}
}

func (w *feedWorld) condition(t *testing.T) *metav1.Condition {
	t.Helper()
	var et identityv1alpha1.EntraTenant
	if err := w.k8s.Get(context.Background(), client.ObjectKey{Name: "contoso"}, &et); err != nil {
		t.Fatal(err)
	}
	return meta.FindStatusCondition(et.Status.Conditions, identityv1alpha1.ConditionChangeFeed)
}

func TestFeedWakesChangedUsersOnceAndNotForItsOwnWrites(t *testing.T) {
	w := newFeedWorld(t)
	_ = w.f.Writes.Recording("tenant-1", &w.api.FakeAPI).UpdatePhoneNumber(context.Background(), "lee-id", methodid.Mobile, "mobile", "+1 2065550199")
	lateKim := auditEntry("kim-late", unitNow.Add(-4*time.Minute), "", "kim-id") // changed before the first poll, delivered after it
	w.api.answers = []func(graph.AuditQuery) ([]graph.AuditEntry, error){
		answer(auditEntry("own", unitNow, unitOwnApp, "lee-id"), auditEntry("stranger", unitNow, "", "nobody-id")),
		answer(lateKim),
		answer(lateKim), // read again within the overlap
	}
	w.pollOnce(t)
	if now, _ := w.woken(); len(now) != 0 {
		t.Errorf("first poll woke %v: phoneop's own write and an unmanaged user wake nobody", now)
	}
	if c := w.condition(t); c == nil || c.Status != metav1.ConditionTrue || c.Reason != identityv1alpha1.ReasonAuditLogRead {
		t.Errorf("after a successful poll: ChangeFeed %+v, want True/AuditLogRead", c)
	}
	if got := w.f.SweepPeriod("contoso"); got != 24*time.Hour {
		t.Errorf("SweepPeriod = %s, want the default 24h", got)
	}

	w.clock = unitNow.Add(time.Minute)
	w.pollOnce(t)
	if now, _ := w.woken(); !slices.Equal(now, []string{"kim-mobile"}) {
		t.Errorf("second poll woke %v, want kim-mobile (the late entry, within the overlap)", now)
	}
	if since := w.api.queries[1].Since; !since.Equal(unitNow.Add(-feedOverlap)) || w.api.queries[1].Service != graph.ServiceAuthenticationMethods {
		t.Errorf("second query: since %s service %q, want the first poll's start minus %s and the auth-methods service", since, w.api.queries[1].Service, feedOverlap)
	}

	w.clock = unitNow.Add(2 * time.Minute)
	w.pollOnce(t)
	if now, _ := w.woken(); len(now) != 0 {
		t.Errorf("third poll woke %v again; entries are acted on once", now)
	}
	snap, _ := w.f.Snapshot("contoso")
	if snap.Entries != 3 || snap.Woken != 1 {
		t.Errorf("counted %d entries and %d users woken, want 3 and 1", snap.Entries, snap.Woken)
	}
}

func TestFeedForbiddenFallsBackToTheResyncPeriod(t *testing.T) {
	w := newFeedWorld(t)
	forbidden := &graph.Error{Op: "listDirectoryAudits", Status: http.StatusForbidden, Code: "Authentication_MSGraphPermissionMissing", Class: graph.Forbidden}
	w.api.answers = []func(graph.AuditQuery) ([]graph.AuditEntry, error){
		answer(),
		func(graph.AuditQuery) ([]graph.AuditEntry, error) { return nil, forbidden },
	}
	w.pollOnce(t)
	w.woken()
	if w.f.SweepPeriod("contoso") == 0 {
		t.Fatal("the feed is not healthy after a successful poll")
	}
	w.clock = unitNow.Add(time.Minute)
	w.pollOnce(t)
	c := w.condition(t)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonAuditLogForbidden {
		t.Fatalf("after a 403: ChangeFeed %+v, want False/AuditLogForbidden", c)
	}
	if got := w.f.SweepPeriod("contoso"); got != 0 {
		t.Errorf("SweepPeriod = %s after a 403, want 0 (--resync-period)", got)
	}
	now, later := w.woken()
	if len(now) != 0 || later != 2 {
		t.Errorf("fallback: %v woken now and %d for later, want both objects rescheduled at their normal slot, none at once", now, later)
	}
}

func TestFeedGapRestartsAndDistrustsForAResyncPeriod(t *testing.T) {
	w := newFeedWorld(t)
	w.tenant.Status.ChangeFeed = &identityv1alpha1.ChangeFeedStatus{Watermark: &metav1.Time{Time: unitNow.Add(-10 * 24 * time.Hour)}}
	if err := w.k8s.Status().Update(context.Background(), w.tenant); err != nil {
		t.Fatal(err)
	}
	w.api.answers = []func(graph.AuditQuery) ([]graph.AuditEntry, error){answer()}
	w.pollOnce(t)
	if len(w.api.queries) != 0 {
		t.Errorf("a watermark beyond retention was queried anyway")
	}
	if c := w.condition(t); c == nil || c.Reason != identityv1alpha1.ReasonAuditLogGap {
		t.Fatalf("after a gap: ChangeFeed %+v, want AuditLogGap", c)
	}
	var et identityv1alpha1.EntraTenant
	_ = w.k8s.Get(context.Background(), client.ObjectKey{Name: "contoso"}, &et)
	if wm := et.Status.ChangeFeed.Watermark.Time; !wm.Equal(unitNow) {
		t.Errorf("watermark after the gap %s, want now (%s)", wm, unitNow)
	}
	w.clock = unitNow.Add(time.Hour) // one resync period later
	w.pollOnce(t)
	if c := w.condition(t); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("a resync period after the gap: ChangeFeed %+v, want True", c)
	}
}

func TestFeedPersistsTheWatermarkOnlyEveryFewMinutes(t *testing.T) {
	w := newFeedWorld(t)
	w.api.answers = []func(graph.AuditQuery) ([]graph.AuditEntry, error){answer()}
	watermark := func() time.Time {
		var et identityv1alpha1.EntraTenant
		_ = w.k8s.Get(context.Background(), client.ObjectKey{Name: "contoso"}, &et)
		if et.Status.ChangeFeed == nil || et.Status.ChangeFeed.Watermark == nil {
			return time.Time{}
		}
		return et.Status.ChangeFeed.Watermark.Time
	}
	var written []time.Time
	for i := range 12 { // a poll a minute for 12 minutes, nothing changing
		w.clock = unitNow.Add(time.Duration(i) * time.Minute)
		w.pollOnce(t)
		if wm := watermark(); len(written) == 0 || !wm.Equal(written[len(written)-1]) {
			written = append(written, wm)
		}
	}
	want := []time.Time{unitNow, unitNow.Add(5 * time.Minute), unitNow.Add(10 * time.Minute)}
	if d := cmp.Diff(want, written); d != "" {
		t.Errorf("watermarks written (-want +got):\n%s", d)
	}
}

func TestFeedErrorsAreClassed(t *testing.T) {
	if c := feedErrorClass(&tenantconn.ErrCredentials{Message: "no secret"}); c != graph.Unauthorized {
		t.Errorf("credentials: %s", c)
	}
	if c := feedErrorClass(errors.New("boom")); c != graph.Transient {
		t.Errorf("unknown error: %s", c)
	}
}

func TestFeedOfAnotherShardWritesNoStatus(t *testing.T) {
	w := newFeedWorld(t)
	w.f.Owns = func(*identityv1alpha1.EntraTenant) bool { return false }
	w.api.answers = []func(graph.AuditQuery) ([]graph.AuditEntry, error){answer(auditEntry("1", unitNow, "", "kim-id"))}
	w.pollOnce(t)
	if c := w.condition(t); c != nil {
		t.Errorf("a shard that does not own the tenant wrote %+v", c)
	}
	if now, _ := w.woken(); !slices.Equal(now, []string{"kim-mobile"}) {
		t.Errorf("woken %v: the shard still wakes its own objects", now)
	}
	if w.f.SweepPeriod("contoso") == 0 {
		t.Error("the shard's own objects do not sweep although its feed is healthy")
	}
}
