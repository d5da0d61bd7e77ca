package controllers

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

func TestCreatesMobileWithSMSSignIn(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("kim@contoso.com")
	f.resetStats()
	p := f.pam("kim-mobile", "kim@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550100", smsEnabled)
	f.create(p)

	got := f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(got.Status.UserID).To(Equal(userID))
	f.g.Expect(got.Status.PhoneMethodID).To(Equal(methodid.Mobile))
	f.g.Expect(got.Status.PhoneNumber).To(Equal("+1 *******100"))
	f.g.Expect(got.Status.SMSSignInState).To(Equal("ready"))
	f.g.Expect(got.Status.PlannedActions).To(BeEmpty())
	f.g.Expect(got.Status.LastSyncTime).NotTo(BeNil())
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.CurrentStatus))
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550100"))
	// A new object's new phone is no news (events.go): Ready and the status above say it.
	flushEvents(f)
	f.g.Expect(f.eventReasons(got)).NotTo(ContainElement(identityv1alpha1.ReasonCreated))
	// One user lookup, one list, one create; Graph registers SMS sign-in itself for a user the
	// policy includes, so no enableSmsSignIn call is needed.
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteUser)).To(Equal(1))
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(Equal(1))
	f.g.Expect(f.count(http.MethodPost, graphemu.RoutePhoneList)).To(Equal(1))
	t.Logf("graph calls for one mobile with SMS sign-in: %+v", f.stats())
}

func TestSteadyStateCostsOneReadAndNoWrites(t *testing.T) {
	f := newFixture(t)
	f.addUser("lee@contoso.com")
	p := f.pam("lee-mobile", "lee@contoso.com", identityv1alpha1.PhoneTypeMobile, "+44 2075550101", smsEnabled)
	f.create(p)
	before := f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	f.resetStats()
	reconciler.Observer.Invalidate(f.tenantID, before.Status.UserID) // a resync finds the cache cold
	res, err := reconciler.Reconcile(f.ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a converged object comes back on its resync schedule")
	// schedule.After jitters each cycle by up to ±10 % of the period.
	f.g.Expect(res.RequeueAfter).To(BeNumerically("<=", reconciler.ResyncPeriod*11/10+time.Second))
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(Equal(1))
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteUser)).To(Equal(0), "the user is resolved once, not per resync")
	f.g.Expect(f.graphWrites()).To(Equal(0))
	after := f.get(p)
	f.g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "a steady state must not write status")
}

func TestAlternateMobileWaitsForMobile(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("ana@contoso.com")
	alt := f.pam("ana-alt", "ana@contoso.com", identityv1alpha1.PhoneTypeAlternateMobile, "+1 2065550102")
	f.create(alt)
	got := f.waitForReady(alt, metav1.ConditionFalse, identityv1alpha1.ReasonMobileRequired)
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.InProgressStatus))
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeAlternateMobile)).To(BeNil())

	// The alternate waits 5 minutes between polls; it converges well within the timeout only
	// because the sibling watch wakes it when the mobile becomes Ready.
	f.create(f.pam("ana-mobile", userID, identityv1alpha1.PhoneTypeMobile, "+1 2065550103"))
	f.waitForReady(alt, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeAlternateMobile).PhoneNumber).To(Equal("+1 2065550102"))
}

func TestDriftIsPutBack(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("max@contoso.com")
	p := f.pam("max-mobile", "max@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550104", smsEnabled)
	f.createReady(p)

	// An admin changes the number in the Entra portal.
	f.editInGraph(userID, "mobile", "+1 4255550199")
	f.resetStats()
	requestReconcile(f, p, "drift-1")

	f.g.Eventually(func() string {
		return f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber
	}, eventually, poll).Should(Equal("+1 2065550104"))
	f.g.Eventually(func() []string { return f.eventReasons(p) }, eventually, poll).Should(ContainElement(identityv1alpha1.ReasonDriftCorrected))
	f.g.Eventually(func() string { return f.get(p).Status.LastHandledReconcileAt }, eventually, poll).Should(Equal("drift-1"))
	got := f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(got.Status.SMSSignInState).To(Equal("ready"))
	f.g.Expect(f.count(http.MethodPatch, graphemu.RoutePhoneItem)).To(Equal(1))
	t.Logf("graph calls to correct drift of one number: %+v", f.stats())
}

// requestReconcile sets the reconcile-requested-at annotation, as `kubectl annotate` would.
func requestReconcile(f *fixture, p *identityv1alpha1.PhoneAuthMethod, value string) {
	f.t.Helper()
	got := f.get(p)
	patch := client.MergeFrom(got.DeepCopy())
	if got.Annotations == nil {
		got.Annotations = map[string]string{}
	}
	got.Annotations[identityv1alpha1.AnnotationReconcileRequestedAt] = value
	f.g.Expect(k8s.Patch(f.ctx, got, patch)).To(Succeed())
}

func TestOldestObjectOwnsTheSlot(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("joe@contoso.com")
	owner := f.pam("joe-mobile", "joe@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550105")
	f.createReady(owner)
	f.resetStats()

	// The same user, named by object id, from another object.
	intruder := f.pam("joe-mobile-2", userID, identityv1alpha1.PhoneTypeMobile, "+1 2065550106")
	f.create(intruder)
	got := f.waitForReady(intruder, metav1.ConditionFalse, identityv1alpha1.ReasonConflict)
	f.g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring(f.namespace+"/joe-mobile"))))
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus))
	f.g.Expect(f.graphWrites()).To(Equal(0), "a conflicting object writes nothing")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550105"))
}

func TestGrantIsEnforcedWithoutCallingGraph(t *testing.T) {
	f := newFixture(t, withUserScope(identityv1alpha1.UserScope{AllowedDomains: []string{"contoso.com"}, DeniedUsers: []string{"breakglass@contoso.com"}}))
	f.addUser("breakglass@contoso.com")
	f.addUser("eve@fabrikam.com")
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.namespace + "-ungranted"}}
	f.create(other)
	f.resetStats()

	cases := map[string]*identityv1alpha1.PhoneAuthMethod{
		"a namespace the tenant does not select": f.pam("kim", "kim@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550107",
			func(p *identityv1alpha1.PhoneAuthMethod) { p.Namespace = other.Name }),
		"a denied break-glass user":          f.pam("breakglass", "BreakGlass@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550108"),
		"a user outside the allowed domains": f.pam("eve", "eve@fabrikam.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550109"),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			f := f.withT(t)
			f.create(p)
			got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonForbidden)
			f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus))
		})
	}
	f.g.Expect(f.count("", "")-f.count(http.MethodPost, graphemu.RouteToken)-f.count(http.MethodGet, graphemu.RouteOpenIDConf)).To(Equal(0),
		"a refused object causes no Graph call at all: %+v", f.stats())
}

func TestObserveOnlyPlansWithoutWriting(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("ida@contoso.com")
	f.resetStats()
	p := f.pam("ida-mobile", "ida@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550110", smsEnabled,
		func(p *identityv1alpha1.PhoneAuthMethod) {
			p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyObserveOnly
		})
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonPlanned)
	f.g.Expect(got.Status.PlannedActions).To(HaveLen(2))
	f.g.Expect(got.Status.PlannedActions[0]).To(Equal("Create mobile +1 *******110"))
	f.g.Expect(f.graphWrites()).To(Equal(0))
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).To(BeNil())

	// Switching to Full applies exactly what was planned.
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyFull
	})
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550110"))
}

func TestDeletionPolicies(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("bo@contoso.com")
	mobile := f.pam("bo-mobile", "bo@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550111", deletionPolicyDelete)
	alt := f.pam("bo-alt", "bo@contoso.com", identityv1alpha1.PhoneTypeAlternateMobile, "+1 2065550112", deletionPolicyDelete)
	office := f.pam("bo-office", "bo@contoso.com", identityv1alpha1.PhoneTypeOffice, "+1 2065550113x42") // Orphan
	for _, p := range []*identityv1alpha1.PhoneAuthMethod{mobile, alt, office} {
		f.create(p)
	}
	for _, p := range []*identityv1alpha1.PhoneAuthMethod{mobile, alt, office} {
		f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}

	// Deleting the mobile first: Graph refuses to delete a mobile while an alternate exists, so
	// the mobile waits for its alternate object to go, whatever order the user deletes in.
	f.g.Expect(k8s.Delete(f.ctx, mobile)).To(Succeed())
	f.waitForReady(mobile, metav1.ConditionFalse, "AlternateMobileExists")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())
	f.g.Expect(k8s.Delete(f.ctx, alt)).To(Succeed())
	f.g.Expect(k8s.Delete(f.ctx, office)).To(Succeed())
	for _, p := range []*identityv1alpha1.PhoneAuthMethod{mobile, alt, office} {
		waitGone(t, p)
	}
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).To(BeNil())
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeAlternateMobile)).To(BeNil())
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeOffice)).NotTo(BeNil(), "Orphan leaves the phone in Graph")
}

func TestDeletingWhenTheUserIsGoneDoesNotHang(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("gone@contoso.com")
	p := f.pam("gone-mobile", "gone@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550114", deletionPolicyDelete)
	f.createReady(p)
	f.g.Expect(emu.DeleteUser(f.tenantID, userID)).To(Succeed())
	reconciler.Observer.Invalidate(f.tenantID, userID)
	f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	waitGone(t, p)
}

func TestNumberFromSecret(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("sam@contoso.com")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sam-phone", Namespace: f.namespace}, StringData: map[string]string{"number": "+1 2065550115"}}
	p := f.pam("sam-mobile", "sam@contoso.com", identityv1alpha1.PhoneTypeMobile, "", func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.PhoneNumberFrom = &identityv1alpha1.PhoneNumberSource{SecretKeyRef: identityv1alpha1.SecretKeySelector{Name: "sam-phone", Key: "number"}}
	})
	f.create(p)
	f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)

	f.create(secret) // the Secret watch wakes the object
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550115"))

	secret.StringData = map[string]string{"number": "+1 2065550116"}
	f.g.Expect(k8s.Update(f.ctx, secret)).To(Succeed())
	f.g.Eventually(func() string { return f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber }, eventually, poll).
		Should(Equal("+1 2065550116"))
}

func TestSMSSignInNotAllowedByPolicy(t *testing.T) {
	f := newFixture(t, withSMSPolicyFor("someone-else@contoso.com"))
	f.addUser("pia@contoso.com")
	p := f.pam("pia-mobile", "pia@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550117", smsEnabled)
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, "SmsNotAllowedByPolicy")
	f.g.Expect(got.Status.SMSSignInState).To(Equal("notAllowedByPolicy"))
	f.g.Expect(got.Status.PhoneMethodID).To(Equal(methodid.Mobile), "the number is in place; only SMS sign-in waits")
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus))
}

func TestUnknownUser(t *testing.T) {
	f := newFixture(t)
	p := f.pam("nobody", "nobody@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550118")
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.InProgressStatus))
}

func TestLostCreateResponseIsNotReposted(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("liv@contoso.com")
	emu.SetFaults(graphemu.Faults{RateLostResponse: 1})
	t.Cleanup(func() { emu.SetFaults(graphemu.Faults{}) })
	f.resetStats()
	p := f.pam("liv-mobile", "liv@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550119", smsEnabled)
	f.createReady(p)
	f.g.Expect(f.count(http.MethodPost, graphemu.RoutePhoneList)).To(Equal(1), "an ambiguous create is re-read, never re-posted")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())
}

func TestThrottlingIsReported(t *testing.T) {
	f := newFixture(t)
	f.addUser("tom@contoso.com")
	emu.SetFaults(graphemu.Faults{Rate429: 1, RetryAfterSeconds: 30})
	t.Cleanup(func() { emu.SetFaults(graphemu.Faults{}) })
	p := f.pam("tom-mobile", "tom@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550120")
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonThrottled)
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.InProgressStatus))
}

func TestTenantCredentialsFollowTheirSecret(t *testing.T) {
	requireSuite(t)
	g := NewWithT(t)
	ctx := context.Background()
	tenantID, clientID := "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	g.Expect(emu.AddTenant(graphemu.Tenant{ID: tenantID})).To(Succeed())
	g.Expect(emu.AddApp(graphemu.App{TenantID: tenantID, ClientID: clientID, ClientSecret: "rotated-secret",
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll}})).To(Succeed())
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "late-secret"}, Spec: identityv1alpha1.EntraTenantSpec{
		TenantID: tenantID, Cloud: identityv1alpha1.CloudCustom, AuthorityHost: emuServer.URL + "/", GraphEndpoint: emuServer.URL,
		Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
			ClientID: clientID, SecretRef: identityv1alpha1.CredentialSecretReference{Name: "late-secret-app", Key: "clientSecret"}}},
		AllowedNamespaces: &metav1.LabelSelector{},
	}}
	g.Expect(k8s.Create(ctx, tenant)).To(Succeed())
	cleanUp(t, tenant)
	tenantReady := func(status metav1.ConditionStatus, reason, message string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			var got identityv1alpha1.EntraTenant
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(tenant), &got)).To(Succeed())
			g.Expect(got.Status.Conditions).To(ContainElement(And(
				HaveField("Type", identityv1alpha1.ConditionReady), HaveField("Status", status),
				HaveField("Reason", reason), HaveField("Message", ContainSubstring(message)))))
		}, eventually, poll).Should(Succeed())
	}
	tenantReady(metav1.ConditionFalse, identityv1alpha1.ReasonCredentialsInvalid, "does not exist")

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "late-secret-app", Namespace: credentialsNamespace},
		StringData: map[string]string{"clientSecret": "wrong-secret"}}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	cleanUp(t, secret)
	tenantReady(metav1.ConditionFalse, identityv1alpha1.ReasonCredentialsInvalid, "Getting a token")

	// Rotating the Secret takes effect at once: the tenant retries only every minute on its
	// own, so converging within the timeout proves the Secret watch.
	secret.StringData = map[string]string{"clientSecret": "rotated-secret"}
	g.Expect(k8s.Update(ctx, secret)).To(Succeed())
	tenantReady(metav1.ConditionTrue, identityv1alpha1.ReasonSynced, "obtained a Graph token")
}

func TestAUsersThreeObjectsShareOneRead(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("una@contoso.com")
	objects := []*identityv1alpha1.PhoneAuthMethod{
		f.pam("una-mobile", "una@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550121", smsEnabled),
		f.pam("una-alt", "una@contoso.com", identityv1alpha1.PhoneTypeAlternateMobile, "+1 2065550122"),
		f.pam("una-office", userID, identityv1alpha1.PhoneTypeOffice, "+1 2065550123x7"),
	}
	for _, p := range objects {
		f.create(p)
	}
	for _, p := range objects {
		f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}

	// A resync pass: the three objects come due together (same user, same schedule).
	f.resetStats()
	reconciler.Observer.Invalidate(f.tenantID, userID)
	for _, p := range objects {
		_, err := reconciler.Reconcile(f.ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
		f.g.Expect(err).NotTo(HaveOccurred())
	}
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(Equal(1), "one list per user per pass: %+v", f.stats())
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteUser)).To(Equal(0))
	f.g.Expect(f.graphWrites()).To(Equal(0))
}

func TestTenantWithMalformedCertificateIsNotReady(t *testing.T) {
	requireSuite(t)
	g := NewWithT(t)
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "garbage-cert", Namespace: credentialsNamespace},
		StringData: map[string]string{"tls.pem": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"}}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	cleanUp(t, secret)
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "garbage-cert"}, Spec: identityv1alpha1.EntraTenantSpec{
		TenantID: "00000000-0000-4000-8000-000000000003", Cloud: identityv1alpha1.CloudCustom, AuthorityHost: emuServer.URL + "/", GraphEndpoint: emuServer.URL,
		Credentials: identityv1alpha1.TenantCredentials{ClientCertificate: &identityv1alpha1.ClientCertificateCredential{
			ClientID: "00000000-0000-4000-8000-000000000004", SecretRef: identityv1alpha1.CredentialSecretReference{Name: "garbage-cert", Key: "tls.pem"}}},
		AllowedNamespaces: &metav1.LabelSelector{},
	}}
	g.Expect(k8s.Create(ctx, tenant)).To(Succeed())
	cleanUp(t, tenant)
	g.Eventually(func(g Gomega) {
		var got identityv1alpha1.EntraTenant
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(tenant), &got)).To(Succeed())
		g.Expect(got.Status.Conditions).To(ContainElement(And(
			HaveField("Type", identityv1alpha1.ConditionReady), HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", identityv1alpha1.ReasonCredentialsInvalid), HaveField("Message", ContainSubstring("could not be loaded")))))
	}, eventually, poll).Should(Succeed())
}

func TestFailingSiblingsDoNotWakeEachOther(t *testing.T) {
	f := newFixture(t)
	mobile := f.pam("ghost-mobile", "ghost@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550124")
	alt := f.pam("ghost-alt", "ghost@contoso.com", identityv1alpha1.PhoneTypeAlternateMobile, "+1 2065550125")
	f.create(mobile)
	f.create(alt)
	f.waitForReady(mobile, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
	f.waitForReady(alt, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)

	// Both now wait a minute between lookups. If a status write of one woke the other, they
	// would ping-pong: Graph calls and resourceVersions would climb in every window. A pass
	// queued before both were seen failing (the alternate's creation wakes the mobile once;
	// a pass that read a cache behind the API server is refused and looks again a second
	// later) may still land in the first window, so a quiet one must follow soon.
	f.g.Eventually(func(g Gomega) {
		f.resetStats()
		before := []*identityv1alpha1.PhoneAuthMethod{f.get(mobile), f.get(alt)}
		g.Consistently(func(g Gomega) {
			for _, b := range before {
				now := f.get(b)
				g.Expect(now.ResourceVersion).To(Equal(b.ResourceVersion), "%s was written: %s", b.Name, cmp.Diff(b, now))
			}
		}, 3*time.Second, 100*time.Millisecond).Should(Succeed())
		g.Expect(f.count(http.MethodGet, graphemu.RouteUser)).To(Equal(0), "user lookups in a quiet window")
	}, 20*time.Second, time.Millisecond).Should(Succeed())
}

// A pass that read the object from a cache still behind the API server (an informer lags
// phoneop's own last status write) must not overwrite the newer status: the write is refused
// as stale instead of stamping the conditions with new transition times.
func TestAStatusWriteFromAStaleReadIsRefused(t *testing.T) {
	f := newFixture(t)
	p := f.pam("stale-mobile", "nobody@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550131")
	f.create(p)
	read := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)

	// A newer version the stale pass has not seen: a label change wakes no reconcile.
	newer := read.DeepCopy() // Patch leaves the API server's answer in it
	f.g.Expect(k8s.Patch(f.ctx, newer, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`)))).To(Succeed())

	written := read.DeepCopy()
	meta.SetStatusCondition(&written.Status.Conditions, metav1.Condition{Type: identityv1alpha1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: identityv1alpha1.ReasonUserNotFound, Message: "from a stale read",
		ObservedGeneration: written.Generation})
	stale, err := reconciler.patchStatus(f.ctx, read, written)
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(stale).To(BeTrue())
	f.g.Consistently(func() identityv1alpha1.PhoneAuthMethodStatus { return f.get(p).Status },
		time.Second, 100*time.Millisecond).Should(Equal(newer.Status), "the newer status stands")

	// From the current version the same write goes through.
	current := newer.DeepCopy()
	current.Status = written.Status
	stale, err = reconciler.patchStatus(f.ctx, newer, current)
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(stale).To(BeFalse())
	f.g.Expect(meta.FindStatusCondition(current.Status.Conditions, identityv1alpha1.ConditionReady).Message).To(Equal("from a stale read"),
		"the API server's answer holds the write")
}

// kubectl apply keeps the applied manifest in an annotation; the manager's cache drops it (it
// can be as large as the rest of the object) and the finalizer is written as a patch, so the
// annotation stays on the API server and the next kubectl apply still knows what it set.
func TestKubectlsLastAppliedAnnotationStaysOnTheServerButNotInTheCache(t *testing.T) {
	f := newFixture(t)
	f.addUser("lia@contoso.com")
	const applied = `{"spec":{"phoneNumber":"+1 2065550132","phoneType":"mobile","user":"lia@contoso.com"}}`
	// deletionPolicy Delete: the object needs the finalizer, so phoneop writes it.
	p := f.pam("lia-mobile", "lia@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550132", deletionPolicyDelete, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: applied}
	})
	f.createReady(p)

	live := &identityv1alpha1.PhoneAuthMethod{}
	f.g.Expect(reconciler.SecretReader.Get(f.ctx, client.ObjectKeyFromObject(p), live)).To(Succeed()) // uncached
	f.g.Expect(live.Finalizers).To(ContainElement(identityv1alpha1.Finalizer))
	f.g.Expect(live.Annotations).To(HaveKeyWithValue(corev1.LastAppliedConfigAnnotation, applied))
	f.g.Expect(f.get(p).Annotations).NotTo(HaveKey(corev1.LastAppliedConfigAnnotation), "the cached copy")
}

func TestUngrantedNamespaceCannotClaimAPhone(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("val@contoso.com")
	f.createInUngrantedNamespace("squat", "squat", "val@contoso.com", "+1 2065550126")

	// The granted object is younger but the squatter's namespace is not granted: it owns nothing.
	owner := f.pam("val-mobile", "val@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550127")
	f.createReady(owner)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550127"))
}

func TestObserveOnlyKeepsObservingWithoutClaimingToCorrect(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("oli@contoso.com")
	p := f.pam("oli-mobile", "oli@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550128")
	f.createReady(p)
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyObserveOnly
	})
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	f.editInGraph(userID, "mobile", "+1 4255550198")
	res, err := reconciler.Reconcile(f.ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(res.RequeueAfter).To(BeNumerically(">", 0), "plan mode keeps re-reading Graph on the resync schedule")
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonPlanned)
	f.g.Expect(got.Status.PlannedActions).To(Equal([]string{"UpdateNumber mobile +1 *******128"}))
	f.g.Expect(f.eventReasons(p)).NotTo(ContainElement(identityv1alpha1.ReasonDriftCorrected), "ObserveOnly corrects nothing")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 4255550198"))
}

func TestDeletingAMobileWithAnUnmanagedAlternateStalls(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("ray@contoso.com")
	mobile := f.pam("ray-mobile", "ray@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550129", deletionPolicyDelete)
	f.createReady(mobile)
	// An admin adds an alternate in the portal; no object manages it.
	f.editInGraph(userID, "alternateMobile", "+1 2065550130")

	f.g.Expect(k8s.Delete(f.ctx, mobile)).To(Succeed())
	got := f.waitForReady(mobile, metav1.ConditionFalse, identityv1alpha1.ReasonAlternateMobileExists)
	f.g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Type", identityv1alpha1.ConditionStalled)),
		"only a person can remove the alternate: Stalled, not progressing")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())

	// Releasing it: the admin switches to Orphan.
	f.update(mobile, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyOrphan
	})
	waitGone(t, mobile)
}

func TestNamespaceLabelGrantsAtOnce(t *testing.T) {
	f := newFixture(t)
	f.addUser("nia@contoso.com")
	ns, p := f.createInUngrantedNamespace("later", "nia-mobile", "nia@contoso.com", "+1 2065550131")

	// Forbidden objects retry every 5 minutes; converging within the timeout proves the
	// namespace watch.
	ns.Labels = map[string]string{"phoneop.dev/tenant": f.tenant}
	f.g.Expect(k8s.Update(f.ctx, ns)).To(Succeed())
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}

func TestASecondConnectionToOneTenantIsRefused(t *testing.T) {
	f := newFixture(t)
	var first identityv1alpha1.EntraTenant
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKey{Name: f.tenant}, &first)).To(Succeed())
	dup := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: f.tenant + "-dup"}, Spec: *first.Spec.DeepCopy()}
	f.create(dup)
	f.g.Eventually(func(g Gomega) {
		var got identityv1alpha1.EntraTenant
		g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(dup), &got)).To(Succeed())
		g.Expect(got.Status.Conditions).To(ContainElement(And(HaveField("Type", identityv1alpha1.ConditionReady),
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", identityv1alpha1.ReasonConflict),
			HaveField("Message", ContainSubstring(f.tenant)))))
		g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Type", identityv1alpha1.ConditionStalled)))
	}, eventually, poll).Should(Succeed())
}

// withFaults sets the emulator's faults (and quirks) for the rest of the test.
func withFaults(t *testing.T, f graphemu.Faults) {
	emu.SetFaults(f)
	t.Cleanup(func() { emu.SetFaults(graphemu.Faults{}) })
}

// Graph as production callers observe it (graph-phone-methods.md, "Observed in production"):
// each test turns on the emulator's mode for one behaviour and fails without phoneop's handling.

func TestAReformattedNumberIsNotDrift(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("rea@contoso.com")
	withFaults(t, graphemu.Faults{NumberFormat: graphemu.NumberFormatNoSpace})
	p := f.pam("rea-mobile", "rea@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550140", smsEnabled)
	f.createReady(p)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+12065550140"), "the emulator stores its own form")

	// A forced resync reads the reformatted number again: the same number, so no write.
	f.resetStats()
	requestReconcile(f, p, "reformat-1")
	f.g.Eventually(func() string { return f.get(p).Status.LastHandledReconcileAt }, eventually, poll).Should(Equal("reformat-1"))
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphWrites()).To(Equal(0), "a number Graph stores in another form is not drift: %+v", f.stats())
	f.g.Expect(f.eventReasons(p)).NotTo(ContainElement(identityv1alpha1.ReasonDriftCorrected))
}

func TestReadLagCostsReadsNotWrites(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("lag@contoso.com")
	p := f.pam("lag-mobile", "lag@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550141")
	f.createReady(p)
	withFaults(t, graphemu.Faults{ReadLag: 5 * time.Second}) // under the manager's 15 s settle window
	f.resetStats()

	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550142" })
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550142"))
	f.g.Expect(f.count(http.MethodPatch, graphemu.RoutePhoneItem)).To(Equal(1), "a stale read after the PATCH must not repeat it: %+v", f.stats())
}

func TestAMaskedNumberIsNeverWrittenOver(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("mas@contoso.com")
	f.editInGraph(userID, "mobile", "+1 2065550143")
	withFaults(t, graphemu.Faults{MaskUsers: []string{userID}})
	f.resetStats()

	p := f.pam("mas-mobile", "mas@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550144")
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonNumberUnreadable)
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus), "an admin must grant the permission")
	f.g.Expect(f.graphWrites()).To(Equal(0), "a masked number is never written over: %+v", f.stats())
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550143"))
}

func TestAConflictThatDidNotSaveIsNotPostedAgain(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("unq@contoso.com")
	withFaults(t, graphemu.Faults{RateNotUniqueUnsaved: 1})
	f.resetStats()

	p := f.pam("unq-mobile", "unq@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550145")
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonPhoneNumberNotUnique)
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.FailedStatus))
	f.g.Expect(f.count(http.MethodPost, graphemu.RoutePhoneList)).To(Equal(1), "one POST, a re-read, then a slow retry: %+v", f.stats())
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).To(BeNil())
}

func TestAnExtensionOnAMobileFromASecretIsInvalid(t *testing.T) {
	f := newFixture(t)
	f.addUser("ext@contoso.com")
	f.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ext-phone", Namespace: f.namespace}, StringData: map[string]string{"number": "+1 2065550146x12"}})
	f.resetStats()
	p := f.pam("ext-mobile", "ext@contoso.com", identityv1alpha1.PhoneTypeMobile, "", func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.PhoneNumberFrom = &identityv1alpha1.PhoneNumberSource{SecretKeyRef: identityv1alpha1.SecretKeySelector{Name: "ext-phone", Key: "number"}}
	})
	f.create(p)
	f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonInvalidNumber)
	f.g.Expect(f.graphWrites()).To(Equal(0))
}

func TestAFixedLineMobileIsReportedNotBlocked(t *testing.T) {
	f := newFixture(t)
	f.addUser("fix@contoso.com")
	p := f.pam("fix-mobile", "fix@contoso.com", identityv1alpha1.PhoneTypeMobile, "+44 2071838750") // a London landline
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(got.Status.Conditions).To(ContainElement(And(HaveField("Type", identityv1alpha1.ConditionFixedLine),
		HaveField("Status", metav1.ConditionTrue), HaveField("Reason", identityv1alpha1.ReasonFixedLineNumber))))
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.CurrentStatus), "a warning, not a failure")
	f.g.Eventually(func() []string { return f.eventReasons(p) }, eventually, poll).Should(ContainElement(identityv1alpha1.ReasonFixedLineNumber))
}

// Brownfield tenants: prefill without overwriting, pause, and a change budget.

func TestCreateOnlyPrefillsAndKeepsWhatUsersRegistered(t *testing.T) {
	f := newFixture(t)
	hasPhone := f.addUser("own@contoso.com")
	newHire := f.addUser("new@contoso.com")
	f.editInGraph(hasPhone, "mobile", "+1 2065550150") // registered by the user in MySignIns
	createOnly := func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyCreateOnly
	}
	f.resetStats()

	kept := f.pam("own-mobile", "own@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550151", createOnly, deletionPolicyDelete)
	f.create(kept)
	got := f.waitForReady(kept, metav1.ConditionTrue, identityv1alpha1.ReasonExistingPhoneKept)
	f.g.Expect(got.Status.PlannedActions).To(Equal([]string{"UpdateNumber mobile +1 *******151"}), "what Full would do")
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.CurrentStatus))
	f.g.Expect(f.graphMethod(hasPhone, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550150"), "never overwritten")

	prefilled := f.pam("new-mobile", "new@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550152", createOnly)
	f.createReady(prefilled)
	f.g.Expect(f.graphMethod(newHire, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550152"))
	f.g.Expect(f.count(http.MethodPost, graphemu.RoutePhoneList)).To(Equal(1))
	f.g.Expect(f.count(http.MethodPatch, "")).To(Equal(0))

	// CreateOnly never deletes, whatever the deletion policy says.
	f.g.Expect(k8s.Delete(f.ctx, kept)).To(Succeed())
	waitGone(t, kept)
	f.g.Expect(f.graphMethod(hasPhone, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())
	f.g.Expect(f.count(http.MethodDelete, "")).To(Equal(0))
}

func TestPauseStopsEveryGraphCall(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("pau@contoso.com")
	p := f.pam("pau-mobile", "pau@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550153")
	f.createReady(p)

	f.annotate(p, identityv1alpha1.AnnotationPaused, "true")
	f.resetStats()
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550154" })
	got := f.waitForSynced(p, identityv1alpha1.ReasonPaused)
	// The new spec never reached Graph: it is not reported as observed, so kstatus (Flux's
	// wait, Helm 4's --wait) must not say Current; and a paused object is never Failed.
	f.g.Expect(got.Status.ObservedGeneration).To(BeNumerically("<", got.Generation), "the paused spec change is not observed")
	f.g.Expect(got.Status.Conditions).To(ContainElement(And(HaveField("Type", identityv1alpha1.ConditionReady),
		HaveField("Status", metav1.ConditionUnknown), HaveField("Reason", identityv1alpha1.ReasonPaused))), "Ready says the new generation is not applied")
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.InProgressStatus), "a paused spec change is neither Current nor Failed")
	graphCalls := func() int {
		return f.count("", "") - f.count(http.MethodPost, graphemu.RouteToken) - f.count(http.MethodGet, graphemu.RouteOpenIDConf)
	}
	f.g.Expect(graphCalls()).To(Equal(0), "a paused object makes no Graph call: %+v", f.stats())

	f.annotate(p, identityv1alpha1.AnnotationPaused, "")
	got = f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550154"))
	f.g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	f.g.Expect(kstatusOf(t, got)).To(Equal(status.CurrentStatus), "resumed and applied")
}

func TestPausingATenantPausesItsObjects(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("tpa@contoso.com")
	p := f.pam("tpa-mobile", "tpa@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550155")
	f.createReady(p)

	f.annotate(f.entraTenant(), identityv1alpha1.AnnotationPaused, "true")
	f.waitForSynced(p, identityv1alpha1.ReasonPaused)
	f.resetStats()
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550156" })
	f.waitForSynced(p, identityv1alpha1.ReasonPaused)
	f.g.Expect(f.graphWrites()).To(Equal(0))
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550155"))

	f.annotate(f.entraTenant(), identityv1alpha1.AnnotationPaused, "")
	f.waitForSynced(p, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550156"))
}

func TestTheChangeBudgetCapsDestructiveWrites(t *testing.T) {
	f := newFixture(t, withChangeBudget(1))
	users := []string{f.addUser("bud1@contoso.com"), f.addUser("bud2@contoso.com")}
	objects := []*identityv1alpha1.PhoneAuthMethod{
		f.pam("bud1-mobile", "bud1@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550157"),
		f.pam("bud2-mobile", "bud2@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550158"),
	}
	for _, p := range objects {
		f.createReady(p) // creates of missing phones spend no budget
	}

	// A bad commit changes both numbers: one change goes through, the other waits.
	f.resetStats()
	for i, p := range objects {
		f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = fmt.Sprintf("+1 20655501%d", 60+i) })
	}
	waiting := 0
	f.g.Eventually(func() int {
		waiting = 0
		for _, p := range objects {
			if c := meta.FindStatusCondition(f.get(p).Status.Conditions, identityv1alpha1.ConditionReady); c != nil && c.Reason == identityv1alpha1.ReasonChangeBudgetExceeded {
				waiting++
			}
		}
		return waiting
	}, eventually, poll).Should(Equal(1))
	f.g.Expect(f.count(http.MethodPatch, graphemu.RoutePhoneItem)).To(Equal(1), "one destructive write per hour: %+v", f.stats())

	// Raising the cap resumes the waiting object at once (it would otherwise wait an hour).
	tenant := f.entraTenant()
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(tenant), tenant)).To(Succeed())
	five := int32(5)
	tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &five
	f.g.Expect(k8s.Update(f.ctx, tenant)).To(Succeed())
	for i, p := range objects {
		f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
		f.g.Expect(f.graphMethod(users[i], identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal(fmt.Sprintf("+1 20655501%d", 60+i)))
	}
}
