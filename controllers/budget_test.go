package controllers

import (
	"fmt"
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	. "github.com/onsi/gomega"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// setChangeBudget sets the fixture's tenant's cap on destructive writes.
func (f *fixture) setChangeBudget(n int32) {
	f.t.Helper()
	tenant := f.entraTenant()
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(tenant), tenant)).To(Succeed())
	tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &n
	f.g.Expect(k8s.Update(f.ctx, tenant)).To(Succeed())
}

// waitForBudgetWait waits until the object stopped on the change budget.
func (f *fixture) waitForBudgetWait(p *identityv1alpha1.PhoneAuthMethod) {
	f.t.Helper()
	f.g.Eventually(func() string {
		if c := meta.FindStatusCondition(f.get(p).Status.Conditions, identityv1alpha1.ConditionReady); c != nil {
			return c.Reason
		}
		return ""
	}, eventually, poll).Should(Equal(identityv1alpha1.ReasonChangeBudgetExceeded), "%s never waited for the change budget", p.Name)
}

// TestRaisingTheCapSendsEachWaitingDeleteOnce: five deletes wait for an exhausted budget;
// raising the cap sends each of them to Graph exactly once (it used to send each twice within
// 0.1 s).
func TestRaisingTheCapSendsEachWaitingDeleteOnce(t *testing.T) {
	f := newFixture(t, withChangeBudget(0))
	var objects []*identityv1alpha1.PhoneAuthMethod
	for i := range 5 {
		upn := fmt.Sprintf("rcap%d@contoso.com", i)
		f.addUser(upn)
		p := f.pam(fmt.Sprintf("rcap%d-mobile", i), upn, identityv1alpha1.PhoneTypeMobile, fmt.Sprintf("+1 20655502%02d", i), deletionPolicyDelete)
		f.createReady(p) // creates of missing phones spend no destructive budget
		objects = append(objects, p)
	}
	for _, p := range objects {
		f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	}
	for _, p := range objects {
		f.waitForBudgetWait(p)
	}
	f.g.Expect(f.count(http.MethodDelete, graphemu.RoutePhoneItem)).To(Equal(0), "no delete past a cap of 0")

	f.setChangeBudget(10)
	for _, p := range objects {
		waitGone(t, p)
	}
	f.g.Expect(f.count(http.MethodDelete, graphemu.RoutePhoneItem)).To(Equal(5), "each waiting delete is sent once: %+v", f.stats())
	_ = metav1.ConditionTrue
}
