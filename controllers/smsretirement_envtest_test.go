package controllers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestSMSSignInRetirementBeforeAndAfterTheDate runs an smsSignIn: Enabled object before the
// emulated cloud's retirement (a warning condition and one Warning event; SMS sign-in enabled)
// and after it (no enable call, the SmsSignInRetired reason, Disabled still cleans up), against
// both shapes the emulator gives the retirement.
func TestSMSSignInRetirementBeforeAndAfterTheDate(t *testing.T) {
	for _, shape := range []graphemu.RetirementShape{graphemu.RetiredEnableRefused, graphemu.RetiredNotAllowedByPolicy} {
		t.Run(string(shape), func(t *testing.T) {
			f := newFixture(t)
			retireEmulator(t, graphemu.SMSSignInRetirement{At: suiteSMSSignInRetirement, Shape: shape})

			// Before the date: enabled, converged, warned once.
			early := f.addUser("early-" + string(shape) + "@contoso.com")
			p := f.pam("early-mobile", "early-"+string(shape)+"@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550170", smsEnabled)
			f.create(p)
			got := f.waitForCondition(p, identityv1alpha1.ConditionSmsSignInRetiring, metav1.ConditionTrue, identityv1alpha1.ReasonSmsSignInRetiring)
			f.g.Expect(meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionSmsSignInRetiring).Message).To(ContainSubstring("2100-01-01"))
			got = f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
			f.g.Expect(got.Status.SMSSignInState).To(Equal("ready"))
			f.g.Expect(f.graphMethod(early, identityv1alpha1.PhoneTypeMobile).SMSSignInState).To(Equal("ready"))
			f.g.Expect(kstatusOf(t, got)).To(Equal(status.CurrentStatus), "a warning, not a failure")
			f.g.Eventually(func() int { return len(f.warnings(p, identityv1alpha1.ReasonSmsSignInRetiring)) }, eventually, poll).Should(Equal(1))
			for _, pass := range []string{"pass-2", "pass-3"} {
				f.forceResync(p, pass)
			}
			f.g.Consistently(func() []*eventsv1.Event { return f.warnings(p, identityv1alpha1.ReasonSmsSignInRetiring) }, 2*time.Second, poll).Should(
				ConsistOf(HaveField("Series", BeNil())), "one Warning event, not one per pass")

			// After the date: Graph answers in the shape under test, phoneop makes no enable call.
			suiteClock.moveTo(t, suiteSMSSignInRetirement.Add(24*time.Hour))
			retireEmulator(t, graphemu.SMSSignInRetirement{At: time.Now().Add(-time.Minute), Shape: shape})
			f.resetStats()
			late := f.addUser("late-" + string(shape) + "@contoso.com")
			q := f.pam("late-mobile", "late-"+string(shape)+"@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550171", smsEnabled)
			f.create(q)
			got = f.waitForReady(q, metav1.ConditionFalse, identityv1alpha1.ReasonSmsSignInRetired)
			f.g.Expect(got.Status.Conditions).To(ContainElement(And(HaveField("Type", identityv1alpha1.ConditionStalled), HaveField("Reason", identityv1alpha1.ReasonSmsSignInRetired))))
			f.g.Expect(meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionSmsSignInRetiring)).To(BeNil())
			f.g.Expect(f.graphMethod(late, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil(), "the phone itself is still created")
			f.forceResync(p, "after-the-date")
			f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonSmsSignInRetired)
			f.g.Expect(f.count(http.MethodPost, graphemu.RouteEnableSMS)).To(Equal(0), "no enable call after the date: %+v", f.stats())
			calls := f.count("", "")
			f.g.Consistently(func() int { return f.count("", "") }, 2*time.Second, poll).Should(Equal(calls), "a retired object does not loop")

			// Disabled still works, for the clean-up.
			f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
				v := identityv1alpha1.SMSSignInDisabled
				p.Spec.SMSSignIn = &v
			})
			f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
			f.g.Expect(f.graphMethod(early, identityv1alpha1.PhoneTypeMobile).SMSSignInState).NotTo(Equal("ready"))
			f.g.Expect(f.count(http.MethodPost, graphemu.RouteEnableSMS)).To(Equal(0))
		})
	}
}

// TestAnEnableGraphRefusesIsNotRetriedInALoop: Graph has retired SMS sign-in (the emulator
// refuses enableSmsSignIn) while phoneop's date has not come: one enable call, the
// SmsSignInRefused reason, and no further call in a loop.
func TestAnEnableGraphRefusesIsNotRetriedInALoop(t *testing.T) {
	f := newFixture(t)
	retireEmulator(t, graphemu.SMSSignInRetirement{At: time.Now().Add(-time.Minute), Shape: graphemu.RetiredEnableRefused})
	f.addUser("ned@contoso.com")
	p := f.pam("ned-mobile", "ned@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550172", smsEnabled)
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonSmsSignInRefused)
	f.g.Expect(got.Status.Conditions).To(ContainElement(And(HaveField("Type", identityv1alpha1.ConditionStalled), HaveField("Reason", identityv1alpha1.ReasonSmsSignInRefused))))
	f.g.Expect(f.count(http.MethodPost, graphemu.RouteEnableSMS)).To(Equal(1))
	f.g.Consistently(func() int { return f.count(http.MethodPost, graphemu.RouteEnableSMS) }, 2*time.Second, poll).Should(Equal(1), "no retry loop")
}

// retireEmulator sets the emulator's SMS sign-in retirement until the test ends.
func retireEmulator(t *testing.T, r graphemu.SMSSignInRetirement) {
	t.Helper()
	NewWithT(t).Expect(emu.SetSMSSignInRetirement(r)).To(Succeed())
	t.Cleanup(func() { _ = emu.SetSMSSignInRetirement(graphemu.SMSSignInRetirement{}) })
}

// forceResync asks for a fresh pass (reconcile-requested-at) and waits until it was handled.
func (f *fixture) forceResync(p *identityv1alpha1.PhoneAuthMethod, value string) {
	f.t.Helper()
	f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, value)
	f.g.Eventually(func() string { return f.get(p).Status.LastHandledReconcileAt }, eventually, poll).Should(Equal(value))
}

// warnings returns the object's Warning events (events.k8s.io, with their series) of a reason.
func (f *fixture) warnings(p *identityv1alpha1.PhoneAuthMethod, reason string) []*eventsv1.Event {
	f.t.Helper()
	var list eventsv1.EventList
	f.g.Expect(k8s.List(context.Background(), &list, client.InNamespace(p.Namespace))).To(Succeed())
	var out []*eventsv1.Event
	for i := range list.Items {
		e := &list.Items[i]
		if e.Regarding.Name == p.Name && e.Reason == reason && e.Type == "Warning" {
			if strings.Contains(e.Note, "5550") {
				f.t.Errorf("event %s leaks a phone number: %s", e.Reason, e.Note)
			}
			out = append(out, e)
		}
	}
	return out
}
