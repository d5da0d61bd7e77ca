package controllers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// The change feed against the emulator's audit log (delivery lag 1 s in the suite) with the
// manager the suite runs: --resync-period is an hour there, so within a test nothing but the
// feed re-reads a converged object.

// feedPoll is the shortest poll interval the API allows, to keep the tests short.
var feedPoll = metav1.Duration{Duration: 5 * time.Second}

// enableFeed turns the fixture's change feed on, after granting the app AuditLog.Read.All
// when audited (tokens carry the roles of their issue, so the tenant's connection is dropped
// and its next token has the new role).
func (f *fixture) enableFeed(audited bool) {
	f.t.Helper()
	if audited {
		f.g.Expect(emu.AddApp(graphemu.App{TenantID: f.tenantID, ClientID: f.clientID(), ClientSecret: testClientSecret,
			Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll, graphemu.PermAuditLogReadAll,
				graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}})).To(Succeed())
		reconciler.Connector.Forget(f.tenantObject().UID)
		feeds.Connector.(*tenantconn.Connector).Forget(f.tenantObject().UID) // the feed's own connection
	}
	f.setFeed(&identityv1alpha1.ChangeFeed{Enabled: true, PollInterval: &feedPoll})
}

// setFeed replaces spec.changeFeed.
func (f *fixture) setFeed(feed *identityv1alpha1.ChangeFeed) {
	f.t.Helper()
	f.g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		et := f.tenantObject()
		et.Spec.ChangeFeed = feed
		return k8s.Update(f.ctx, et)
	})).To(Succeed())
}

func (f *fixture) tenantObject() *identityv1alpha1.EntraTenant {
	f.t.Helper()
	et := &identityv1alpha1.EntraTenant{}
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKey{Name: f.tenant}, et)).To(Succeed())
	return et
}

func (f *fixture) clientID() string { return f.tenantObject().Spec.Credentials.ClientSecret.ClientID }

// waitForFeed waits until the tenant's ChangeFeed condition has status and reason.
func (f *fixture) waitForFeed(want metav1.ConditionStatus, reason string) *identityv1alpha1.EntraTenant {
	f.t.Helper()
	var et *identityv1alpha1.EntraTenant
	f.g.Eventually(func(g Gomega) {
		et = &identityv1alpha1.EntraTenant{}
		g.Expect(k8s.Get(f.ctx, client.ObjectKey{Name: f.tenant}, et)).To(Succeed())
		c := meta.FindStatusCondition(et.Status.Conditions, identityv1alpha1.ConditionChangeFeed)
		g.Expect(c).NotTo(BeNil(), "no ChangeFeed condition yet")
		g.Expect(c.Reason).To(Equal(reason), "ChangeFeed reason (message: %s)", c.Message)
		g.Expect(c.Status).To(Equal(want))
	}, eventually, poll).Should(Succeed())
	return et
}

// TestChangeFeedCorrectsAnOutOfBandChangeWithHourlyResync is the change feed's promise: with the
// resync period at an hour, an admin's change in the portal is put back within seconds,
// because the feed read the audit log and re-read exactly that user; phoneop's own correction,
// in the log too, wakes nobody.
func TestChangeFeedCorrectsAnOutOfBandChangeWithHourlyResync(t *testing.T) {
	f := newFixture(t)
	kim := f.addUser("kim@contoso.com")
	f.addUser("lee@contoso.com")
	kimMobile := f.pam("kim-mobile", "kim@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550100")
	f.createReady(kimMobile)
	f.createReady(f.pam("lee-mobile", "lee@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550101"))
	f.enableFeed(true)
	et := f.waitForFeed(metav1.ConditionTrue, identityv1alpha1.ReasonAuditLogRead)
	g := NewWithT(t)
	g.Expect(et.Status.ChangeFeed).NotTo(BeNil())
	g.Expect(et.Status.ChangeFeed.Watermark).NotTo(BeNil(), "the watermark is persisted with the condition")
	g.Expect(feeds.SweepPeriod(f.tenant)).To(Equal(24*time.Hour), "a healthy feed makes converged objects sweep daily")
	before, _ := feeds.Snapshot(f.tenant)
	f.resetStats()

	// An admin changes kim's mobile in the portal; nothing tells phoneop but the audit log.
	start := time.Now()
	g.Expect(emu.SetPhoneMethod(f.tenantID, kim, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: "+1 2065550199"})).To(Succeed())
	g.Eventually(func() string { return f.graphMethod(kim, identityv1alpha1.PhoneTypeMobile).PhoneNumber }, eventually, poll).
		Should(Equal("+1 2065550100"), "the feed put kim's mobile back")
	t.Logf("corrected %s after the change (audit lag 1s, poll interval %s)", time.Since(start).Round(100*time.Millisecond), feedPoll.Duration)

	// The feed reads its own PATCH in the log too; by then it has still woken kim alone.
	g.Eventually(func() uint64 { s, _ := feeds.Snapshot(f.tenant); return s.Entries - before.Entries }, eventually, poll).
		Should(BeNumerically(">=", 2), "the admin's change and phoneop's correction")
	after, _ := feeds.Snapshot(f.tenant)
	g.Expect(after.Woken-before.Woken).To(Equal(uint64(1)), "only kim was re-read; lee and phoneop's own write woke nobody")
	g.Expect(f.count(http.MethodPatch, graphemu.RoutePhoneItem)).To(Equal(1), "one correction")
	g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(BeNumerically("<=", 2), "kim's lists only: lee is never re-read")
	// Events are written asynchronously by the event broadcaster.
	g.Eventually(func() []string { return f.eventReasons(kimMobile) }, eventually, poll).Should(ContainElement(identityv1alpha1.ReasonDriftCorrected))
}

// TestChangeFeedCatchesAChangeMadeWithPhoneopsOwnCredential: someone holding phoneop's
// credential (the same app id and secret) changes a managed phone through Graph. The audit
// entry names phoneop's app, but this manager recorded no such write: with the feed on and the
// resync period at an hour, the feed reports it (the unattributed-writes metric and a Warning
// Event on the EntraTenant) and wakes the user, whose phone is put back; phoneop's own
// correction, in the log too, is attributed to its recorded write and reported nowhere.
func TestChangeFeedCatchesAChangeMadeWithPhoneopsOwnCredential(t *testing.T) {
	f := newFixture(t)
	kim := f.addUser("kim@contoso.com")
	kimMobile := f.pam("kim-mobile", "kim@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550100")
	f.createReady(kimMobile)
	f.enableFeed(true)
	f.waitForFeed(metav1.ConditionTrue, identityv1alpha1.ReasonAuditLogRead)
	g := NewWithT(t)
	g.Expect(reconciler.resync().PeriodFor(f.tenant)).To(Equal(24*time.Hour), "the feed is on: converged objects re-read Graph daily")
	before, _ := feeds.Snapshot(f.tenant)

	// The thief's client: phoneop's own app id and secret, its own process.
	et := f.tenantObject()
	thief, err := tenantconn.Dial(et, graph.CredentialSource{ClientID: f.clientID(), ClientSecret: testClientSecret},
		tenantconn.Options{HTTPClient: emuServer.Client(), Throttles: graph.NewThrottles(nil)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(thief.Client.UpdatePhoneNumber(f.ctx, kim, methodid.Mobile, "mobile", "+1 2065550199")).To(Succeed())
	entries := emu.AuditEntries(f.tenantID)
	g.Expect(entries[len(entries)-1].InitiatedByAppID).To(Equal(f.clientID()), "the audit log names phoneop's app: the thief's change looks like phoneop's own")

	g.Eventually(func() string { return f.graphMethod(kim, identityv1alpha1.PhoneTypeMobile).PhoneNumber }, eventually, poll).
		Should(Equal("+1 2065550100"), "the feed woke kim and phoneop put the mobile back")
	g.Eventually(func() uint64 { s, _ := feeds.Snapshot(f.tenant); return s.Entries - before.Entries }, eventually, poll).
		Should(BeNumerically(">=", 2), "the thief's change and phoneop's correction were both read")
	after, _ := feeds.Snapshot(f.tenant)
	g.Expect(after.Unattributed-before.Unattributed).To(Equal(uint64(1)), "the thief's change is reported; phoneop's own correction is not")
	g.Eventually(func() []string { return f.tenantEventReasons(corev1.EventTypeWarning) }, eventually, poll).
		Should(ContainElement(identityv1alpha1.ReasonSuspectedCredentialUse))
}

// tenantEventReasons lists the reasons of the Events of type eventtype about the fixture's
// EntraTenant (cluster-scoped: its Events are in the default namespace).
func (f *fixture) tenantEventReasons(eventtype string) []string {
	f.t.Helper()
	var list corev1.EventList
	f.g.Expect(k8s.List(f.ctx, &list, client.InNamespace(metav1.NamespaceDefault))).To(Succeed())
	var reasons []string
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "EntraTenant" && e.InvolvedObject.Name == f.tenant && e.Type == eventtype {
			reasons = append(reasons, e.Reason)
			if strings.Contains(e.Message, "5550") {
				f.t.Errorf("event %s leaks a phone number: %s", e.Reason, e.Message)
			}
		}
	}
	return reasons
}

// TestChangeFeedWithoutPermissionFallsBack: without AuditLog.Read.All the feed reports
// AuditLogForbidden at once and objects keep --resync-period; granting the permission heals
// it.
func TestChangeFeedWithoutPermissionFallsBack(t *testing.T) {
	f := newFixture(t)
	f.addUser("kim@contoso.com")
	f.createReady(f.pam("kim-mobile", "kim@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550100"))
	f.enableFeed(false)
	f.waitForFeed(metav1.ConditionFalse, identityv1alpha1.ReasonAuditLogForbidden)
	g := NewWithT(t)
	g.Expect(feeds.SweepPeriod(f.tenant)).To(BeZero(), "a failing feed leaves objects on --resync-period")
	g.Expect(reconciler.resync().PeriodFor(f.tenant)).To(Equal(time.Hour))
	g.Expect(f.count(http.MethodGet, graphemu.RouteDirectoryAudits)).To(BeNumerically(">=", 1))

	f.enableFeed(true) // an admin grants the permission and consents
	f.waitForFeed(metav1.ConditionTrue, identityv1alpha1.ReasonAuditLogRead)
	g.Expect(reconciler.resync().PeriodFor(f.tenant)).To(Equal(24 * time.Hour))
}

// TestChangeFeedOffClearsItsStatus: turning the feed off removes its condition and watermark
// and brings objects back to --resync-period.
func TestChangeFeedOffClearsItsStatus(t *testing.T) {
	f := newFixture(t)
	f.enableFeed(true)
	f.waitForFeed(metav1.ConditionTrue, identityv1alpha1.ReasonAuditLogRead)
	f.setFeed(&identityv1alpha1.ChangeFeed{Enabled: false})
	NewWithT(t).Eventually(func(g Gomega) {
		et := f.tenantObject()
		g.Expect(meta.FindStatusCondition(et.Status.Conditions, identityv1alpha1.ConditionChangeFeed)).To(BeNil())
		g.Expect(et.Status.ChangeFeed).To(BeNil())
		g.Expect(feeds.SweepPeriod(f.tenant)).To(BeZero())
	}, eventually, poll).Should(Succeed())
}
