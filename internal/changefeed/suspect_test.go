package changefeed

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// fakeEvents records the reasons of the Events a feed sends.
type fakeEvents struct {
	events.EventRecorder
	reasons []string
	notes   []string
}

func (f *fakeEvents) Eventf(_, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	f.reasons = append(f.reasons, eventtype+"/"+reason)
	f.notes = append(f.notes, note)
}

// TestFeedReportsAChangeMadeWithItsAppIDThatItDidNotMake: an entry initiated by phoneop's own
// app id with no recorded write is someone else holding the credential: the user is woken, the
// metric counts it and a Warning Event names it; phoneop's own recorded write stays silent.
func TestFeedReportsAChangeMadeWithItsAppIDThatItDidNotMake(t *testing.T) {
	w := newFeedWorld(t)
	rec := &fakeEvents{}
	w.f.Recorder = rec
	_ = w.f.Writes.Recording("tenant-1", &w.api.FakeAPI).UpdatePhoneNumber(context.Background(), "lee-id", "", "mobile", "+1 2065550199")
	w.api.answers = []func(graph.AuditQuery) ([]graph.AuditEntry, error){
		answer(auditEntry("phoneop", unitNow, unitOwnApp, "lee-id"), auditEntry("thief", unitNow.Add(-time.Minute), unitOwnApp, "kim-id")),
	}
	w.pollOnce(t)
	if now, _ := w.woken(); !slices.Equal(now, []string{"kim-mobile"}) {
		t.Errorf("woken %v, want kim-mobile only (lee's entry is phoneop's own write)", now)
	}
	snap, _ := w.f.Snapshot("contoso")
	if snap.Unattributed != 1 {
		t.Errorf("unattributed = %d, want 1", snap.Unattributed)
	}
	if !slices.Equal(rec.reasons, []string{"Warning/" + identityv1alpha1.ReasonSuspectedCredentialUse}) {
		t.Errorf("events %v, want one Warning %s", rec.reasons, identityv1alpha1.ReasonSuspectedCredentialUse)
	}
}

// TestMetricsSurviveTwoTenantsNamingOneTenantID: the Conflict case (a second EntraTenant for a
// tenant id) must not emit a second series with the same labels; the registry would fail the
// whole scrape with HTTP 500 and every alert would go silent.
func TestMetricsSurviveTwoTenantsNamingOneTenantID(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	tenant := func(name string, created time.Time, tenantID string) *identityv1alpha1.EntraTenant {
		return &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
			Spec: identityv1alpha1.EntraTenantSpec{TenantID: tenantID, ChangeFeed: &identityv1alpha1.ChangeFeed{Enabled: true}}}
	}
	k8s := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		tenant("contoso", unitNow, "tenant-1"),
		tenant("contoso-copy", unitNow.Add(time.Hour), "tenant-1"), // Conflict: the older one owns the id
		tenant("fabrikam", unitNow, "tenant-2"),
	).Build()
	feeds := &Feeds{Client: k8s, Now: func() time.Time { return unitNow }}
	// Both EntraTenants of tenant-1 have a running feed in this process (as before the fix).
	feeds.feeds = map[string]*tenantFeed{
		"contoso":      {tenantID: "tenant-1", watermark: unitNow, woken: 1},
		"contoso-copy": {tenantID: "tenant-1", watermark: unitNow, woken: 7},
		"fabrikam":     {tenantID: "tenant-2", watermark: unitNow},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&Collector{Reader: k8s, Feeds: feeds})
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape answered %d:\n%s", resp.StatusCode, body)
	}
	for _, metric := range []string{"phoneop_change_feed_enabled", "phoneop_change_feed_healthy", "phoneop_change_feed_users_woken_total", "phoneop_change_feed_unattributed_writes_total"} {
		var series []string
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, metric+"{") {
				series = append(series, line)
			}
		}
		if len(series) != 2 {
			t.Errorf("%s: %d series, want one per tenant id (2):\n%s", metric, len(series), strings.Join(series, "\n"))
		}
	}
	if !strings.Contains(string(body), `phoneop_change_feed_users_woken_total{tenant="tenant-1"} 1`) {
		t.Errorf("tenant-1's series is not the owning EntraTenant's (contoso, woken 1):\n%s", body)
	}
}
