package controllers

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// lastHandled is the object's status.lastHandledReconcileAt, as cached.
func (f *fixture) lastHandled(p *identityv1alpha1.PhoneAuthMethod) string {
	return f.get(p).Status.LastHandledReconcileAt
}

// TestAForcedReadIsHonouredOncePerIntervalPerObject: a second reconcile-requested-at right
// after the first is not a second Graph read at once: the object keeps its status, says so in
// a ForcedReadDeferred event, and reads Graph once the interval has passed.
func TestAForcedReadIsHonouredOncePerIntervalPerObject(t *testing.T) {
	f := newFixture(t)
	f.addUser("fay@contoso.com")
	p := f.pam("fay-mobile", "fay@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550160")
	f.createReady(p)
	f.resetStats()

	f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, "first")
	f.g.Eventually(func() string { return f.lastHandled(p) }, eventually, poll).Should(Equal("first"))
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(Equal(1), "the first forced re-read reads Graph")

	f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, "second")
	f.g.Eventually(func() []string { return f.eventReasons(p) }, eventually, poll).Should(ContainElement(identityv1alpha1.ReasonForcedReadDeferred))
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(Equal(1), "the second one, right after, is served from the last read")

	f.g.Eventually(func() string { return f.lastHandled(p) }, eventually, poll).Should(Equal("second"), "and honoured once the interval has passed")
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(Equal(2))
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}

// TestOneNamespaceCannotForceMoreThanItsRate: forcing a re-read of every object of a namespace
// at once reads Graph for the namespace's burst (4 in the suite) and defers the rest.
func TestOneNamespaceCannotForceMoreThanItsRate(t *testing.T) {
	f := newFixture(t)
	var objs []*identityv1alpha1.PhoneAuthMethod
	for i := range 6 {
		upn := fmt.Sprintf("rat%d@contoso.com", i)
		f.addUser(upn)
		p := f.pam(fmt.Sprintf("rat%d-mobile", i), upn, identityv1alpha1.PhoneTypeMobile, fmt.Sprintf("+1 206555017%d", i))
		f.createReady(p)
		objs = append(objs, p)
	}
	f.resetStats()
	for _, p := range objs {
		f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, "all-at-once")
	}
	deferred := func() (n int) {
		for _, p := range objs {
			if slices.Contains(f.eventReasons(p), identityv1alpha1.ReasonForcedReadDeferred) {
				n++
			}
		}
		return n
	}
	f.g.Eventually(deferred, eventually, poll).Should(BeNumerically(">=", 1), "no forced re-read was deferred")
	handled := 0
	for _, p := range objs {
		if f.lastHandled(p) == "all-at-once" {
			handled++
		}
	}
	f.g.Expect(handled).To(BeNumerically("<", len(objs)), "every object of the namespace read Graph at once")
	f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(BeNumerically("<", len(objs)))
}

// TestObserveOnlyComparesANewNumberAtMostOncePerInterval: in ObserveOnly, Ready says whether the
// spec's number is Graph's; a namespace changing the spec's number to test guesses gets
// ComparisonDeferred, with no verdict and no plannedActions, until the interval has passed.
func TestObserveOnlyComparesANewNumberAtMostOncePerInterval(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("gus@contoso.com")
	f.editInGraph(userID, "mobile", "+1 2065550180")
	p := f.pam("gus-mobile", "gus@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550180", func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyObserveOnly
	})
	f.createReady(p) // the first comparison is immediate

	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550181" }) // a guess
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonComparisonDeferred)
	f.g.Expect(got.Status.PlannedActions).To(BeEmpty(), "plannedActions would tell the guess was wrong")
	f.g.Expect(f.graphWrites()).To(BeZero())
}
