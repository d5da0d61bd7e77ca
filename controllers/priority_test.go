package controllers

import (
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graphemu"
)

func TestPassPriority(t *testing.T) {
	now := metav1.NewTime(time.Unix(1700000000, 0))
	cases := map[string]struct {
		priorReady bool
		mutate     func(*identityv1alpha1.PhoneAuthMethod)
		want       graph.Priority
	}{
		"a resync of an object Ready for its generation is a sweep": {priorReady: true, want: graph.PriorityLow},
		"a new generation (a spec change) is not":                   {want: graph.PriorityNormal},
		"a forced re-read is not": {priorReady: true, want: graph.PriorityNormal, mutate: func(p *identityv1alpha1.PhoneAuthMethod) {
			p.Annotations = map[string]string{identityv1alpha1.AnnotationReconcileRequestedAt: "now"}
		}},
		"a forced re-read already handled is a sweep again": {priorReady: true, want: graph.PriorityLow, mutate: func(p *identityv1alpha1.PhoneAuthMethod) {
			p.Annotations = map[string]string{identityv1alpha1.AnnotationReconcileRequestedAt: "then"}
			p.Status.LastHandledReconcileAt = "then"
		}},
		"a deletion is not": {priorReady: true, want: graph.PriorityNormal, mutate: func(p *identityv1alpha1.PhoneAuthMethod) {
			p.DeletionTimestamp = &now
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := &identityv1alpha1.PhoneAuthMethod{}
			if tc.mutate != nil {
				tc.mutate(p)
			}
			if got := passPriority(p, tc.priorReady); got != tc.want {
				t.Errorf("passPriority = %q, want %q", got, tc.want)
			}
		})
	}
}

// Spec-driven reads and writes go to Graph as x-ms-throttle-priority normal; a resync sweep's
// reads go low, and the write a sweep makes to put back a drifted phone goes normal.
func TestSweepsReadLowAndSpecDrivenWorkGoesNormal(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("pia@contoso.com")
	priority := func(method, route, p string) int { return emu.TenantPriorityCount(f.tenantID, method, route, p) }

	// A new object: spec-driven through and through.
	f.resetStats()
	p := f.pam("pia-mobile", "pia@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550140")
	f.createReady(p)
	f.g.Expect(priority(http.MethodPost, graphemu.RoutePhoneList, "normal")).To(Equal(1), "the create: %+v", emu.TenantPriorityStats(f.tenantID))
	f.g.Expect(priority(http.MethodGet, graphemu.RoutePhoneList, "normal")).To(BeNumerically(">=", 1))
	f.g.Expect(priority("", "", "low")).To(Equal(0), "a spec-driven pass sent low: %+v", emu.TenantPriorityStats(f.tenantID))

	// A resync sweep (the pass the resync schedule makes) that finds the phone changed behind
	// phoneop's back: its reads are low, its correcting write normal.
	f.editInGraph(userID, "mobile", "+1 2065550141")
	f.resetStats()
	_, err := reconciler.Reconcile(f.ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(priority(http.MethodGet, graphemu.RoutePhoneList, "low")).To(BeNumerically(">=", 1), "the sweep's read: %+v", emu.TenantPriorityStats(f.tenantID))
	f.g.Expect(priority(http.MethodPatch, graphemu.RoutePhoneItem, "normal")).To(Equal(1), "the drift correction: %+v", emu.TenantPriorityStats(f.tenantID))
	f.g.Expect(priority("", "", "normal")-priority(http.MethodPatch, "", "normal")).To(Equal(0), "the sweep read at normal: %+v", emu.TenantPriorityStats(f.tenantID))
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550140"))

	// A spec change: normal again.
	f.resetStats()
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550142" })
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(priority(http.MethodPatch, graphemu.RoutePhoneItem, "normal")).To(Equal(1), "the spec's write: %+v", emu.TenantPriorityStats(f.tenantID))
	f.g.Expect(priority("", "", "low")).To(Equal(0), "a spec-driven pass sent low: %+v", emu.TenantPriorityStats(f.tenantID))
}
