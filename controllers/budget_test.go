package controllers

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	. "github.com/onsi/gomega"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
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
}

// TestDefaultMethodDeletesAreRefusedWithoutSpendingTheBudget: Graph refuses to delete three
// users' default phones (they have the Authenticator app too); each object says
// DefaultMethodInUse, the tenant's change budget of 3 per hour is untouched, and another
// user's number change goes through at once (it used to wait for the rest of the hour).
func TestDefaultMethodDeletesAreRefusedWithoutSpendingTheBudget(t *testing.T) {
	f := newFixture(t, withChangeBudget(3))
	var stuck []*identityv1alpha1.PhoneAuthMethod
	for i := range 3 {
		upn := fmt.Sprintf("dflt%d@contoso.com", i)
		id := f.addUser(upn)
		p := f.pam(fmt.Sprintf("dflt%d-mobile", i), upn, identityv1alpha1.PhoneTypeMobile, fmt.Sprintf("+1 20655503%02d", i), deletionPolicyDelete)
		f.createReady(p)
		f.g.Expect(emu.SetAuthenticationMethods(f.tenantID, id, []graphemu.AuthenticationMethod{{Type: graphemu.MethodMicrosoftAuthenticator}})).To(Succeed())
		f.g.Expect(emu.SetDefaultMethod(f.tenantID, id, "mobile")).To(Succeed())
		stuck = append(stuck, p)
	}
	legitID := f.addUser("legit@contoso.com")
	legit := f.pam("legit-mobile", "legit@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550310")
	f.createReady(legit)
	f.resetStats()

	for _, p := range stuck {
		f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	}
	for _, p := range stuck {
		got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonDefaultMethodInUse)
		f.g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Type", identityv1alpha1.ConditionStalled)), "only the user or an admin can move the default")
	}
	f.g.Expect(f.count(http.MethodDelete, graphemu.RoutePhoneItem)).To(Equal(3), "one refused delete each, retried slowly: %+v", f.stats())
	left, err := reconciler.Budgets.Remaining(f.ctx, f.tenantID, budget.Destructive, 3)
	f.g.Expect(err).NotTo(HaveOccurred())
	f.g.Expect(left).To(Equal(3), "refused deletes spend no budget")

	f.update(legit, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550311" })
	f.waitForReady(legit, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(f.graphMethod(legitID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550311"))

	for _, p := range stuck { // release them without waiting for the 10-minute retry
		f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
			p.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyOrphan
		})
		waitGone(t, p)
	}
}

// TestReplicasShareOneCapOnTheAPIServer: three ledgers (three replicas or shards, each with
// its own copy of the Lease) race 20 takes for one tenant against the real API server;
// optimistic concurrency grants exactly the cap between them.
func TestReplicasShareOneCapOnTheAPIServer(t *testing.T) {
	requireSuite(t)
	g := NewWithT(t)
	tenantID := uuid.NewString()
	var granted atomic.Int32
	var wg sync.WaitGroup
	ledgers := make([]*budget.Ledger, 3)
	for i := range ledgers {
		ledgers[i] = &budget.Ledger{Client: k8s, Reader: apiReader, Namespace: credentialsNamespace}
	}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := types.NamespacedName{Namespace: "team", Name: fmt.Sprintf("racer-%d", i)}
			tok, _, err := ledgers[i%len(ledgers)].Take(context.Background(), tenantID, budget.Destructive, 7, key)
			if err != nil {
				t.Errorf("Take: %v", err)
			}
			if tok.Taken() {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	g.Expect(granted.Load()).To(Equal(int32(7)), "tokens granted among three replicas under a cap of 7")
	left, err := (&budget.Ledger{Client: k8s, Reader: apiReader, Namespace: credentialsNamespace}).Remaining(context.Background(), tenantID, budget.Destructive, 7)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(left).To(BeZero(), "a fresh replica reads the spent budget from the Lease")
}
