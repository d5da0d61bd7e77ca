package controllers

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
)

func TestBudgetPoolOfEachWrite(t *testing.T) {
	cases := map[string]struct {
		kind            plan.ActionKind
		createdThisPass bool
		wantPool        budget.Pool
		wantCapped      bool
	}{
		"a number change is destructive":                       {kind: plan.UpdateNumber, wantPool: budget.Destructive, wantCapped: true},
		"a delete is destructive":                              {kind: plan.Delete, wantPool: budget.Destructive, wantCapped: true},
		"disabling SMS sign-in of an existing phone":           {kind: plan.DisableSMS, wantPool: budget.Destructive, wantCapped: true},
		"enabling SMS sign-in of an existing phone":            {kind: plan.EnableSMS, wantPool: budget.Destructive, wantCapped: true},
		"a create has a cap of its own":                        {kind: plan.Create, wantPool: budget.Creates, wantCapped: true},
		"SMS sign-in of a phone created this pass is the same": {kind: plan.EnableSMS, createdThisPass: true},
		"disabling it on a phone created this pass too":        {kind: plan.DisableSMS, createdThisPass: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pool, capped := budgetPoolOf(tc.kind, tc.createdThisPass)
			if pool != tc.wantPool || capped != tc.wantCapped {
				t.Errorf("budgetPoolOf(%s, created=%v) = (%q, %v), want (%q, %v)", tc.kind, tc.createdThisPass, pool, capped, tc.wantPool, tc.wantCapped)
			}
		})
	}
	for _, k := range plan.ActionKinds {
		if _, capped := budgetPoolOf(k, false); !capped {
			t.Errorf("plan action %s on an existing phone spends no budget", k)
		}
	}
}

// deleting marks the unit world's object as being deleted with deletionPolicy Delete.
func deleting(p *identityv1alpha1.PhoneAuthMethod) {
	now := metav1.Now()
	p.DeletionTimestamp = &now
	p.Finalizers = []string{identityv1alpha1.Finalizer}
	p.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyDelete
}

// anOffice makes the unit world's object the user's office phone (no SMS sign-in).
func anOffice(p *identityv1alpha1.PhoneAuthMethod) {
	p.Spec.PhoneType = identityv1alpha1.PhoneTypeOffice
	p.Spec.SMSSignIn = nil
}

func officeWith(number string) graph.PhoneMethod {
	return graph.PhoneMethod{ID: plan.WellKnownMethodID(plan.Office), PhoneType: "office", PhoneNumber: number, SMSSignInState: "notSupported"}
}

// defaultMethodRefusal is Graph's answer to deleting a user's default method, as the client
// reports it.
var defaultMethodRefusal = &graph.Error{Op: "deletePhoneMethod", Status: 400, Code: "badRequest", Class: graph.Terminal,
	Sent: true, Refusal: graph.DefaultMethodRefusal}

// TestRefusedDeletesDoNotStarveTheTenant reproduces the finding: three deletes Graph refused
// (the users' default methods) with a cap of 3 per hour used to spend the whole budget, so a
// legitimate number change for another user waited for the rest of the hour. Refused writes
// now refund their tokens.
func TestRefusedDeletesDoNotStarveTheTenant(t *testing.T) {
	three := int32(3)
	ledger := unitLedger()
	world := func(name string, api *graph.Error, mutate ...func(*identityv1alpha1.PhoneAuthMethod)) *unitWorld {
		book := newPhoneBook(mobileWith(unitOldNumber, "ready"), officeWith(unitOldNumber))
		fake := fakeGraph(book)
		if api != nil {
			fake.DeletePhoneMethodFunc = func(context.Context, string, string) error { return api }
		}
		w := newUnitWorld(fake, mutate...)
		w.s.pam.Name = name
		w.r.Budgets = ledger
		w.s.tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &three
		return w
	}
	for i := range 3 {
		w := world(fmt.Sprintf("stuck-%d", i), defaultMethodRefusal, deleting, anOffice)
		o := w.converge(t)
		if o.reason != identityv1alpha1.ReasonDefaultMethodInUse || !o.stalled || o.requeueAfter != adminRetry {
			t.Fatalf("refused delete %d: outcome = %+v, want stalled %s retried after %s", i, o, identityv1alpha1.ReasonDefaultMethodInUse, adminRetry)
		}
	}
	left, err := ledger.Remaining(context.Background(), "tenant-1", budget.Destructive, 3)
	if err != nil || left != 3 {
		t.Fatalf("budget left after three refused deletes = %d (%v), want 3: a refused write spends nothing", left, err)
	}
	legit := world("legit", nil)
	if o := legit.converge(t); !o.ready {
		t.Errorf("a number change for another user after three refused deletes: outcome = %+v, want converged", o)
	}
}

// TestAnAmbiguousWriteKeepsItsToken: a write that may have reached Graph (a 5xx) keeps its
// token.
func TestAnAmbiguousWriteKeepsItsToken(t *testing.T) {
	one := int32(1)
	book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
	api := fakeGraph(book)
	api.UpdatePhoneNumberFunc = func(context.Context, string, string, string, string) error {
		return &graph.Error{Op: "updatePhoneNumber", Status: 503, Class: graph.Transient, Sent: true}
	}
	w := newUnitWorld(api)
	w.s.tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &one
	w.converge(t)
	if left, _ := w.r.Budgets.Remaining(context.Background(), "tenant-1", budget.Destructive, 1); left != 0 {
		t.Errorf("budget left after a 503 = %d, want 0: the write may have been applied", left)
	}
}

// TestAWaitingObjectChecksTheBudgetBeforeReadingGraph: an object that last stopped on the
// change budget asks the ledger before any Graph read, and waits again while none is free.
func TestAWaitingObjectChecksTheBudgetBeforeReadingGraph(t *testing.T) {
	none := int32(0)
	api := fakeGraph(newPhoneBook(mobileWith(unitOldNumber, "ready")))
	w := newUnitWorld(api)
	w.s.tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &none
	first := w.converge(t)
	if first.reason != identityv1alpha1.ReasonChangeBudgetExceeded {
		t.Fatalf("outcome = %+v, want %s", first, identityv1alpha1.ReasonChangeBudgetExceeded)
	}
	w.r.setStatus(w.s, w.s.pam.DeepCopy())
	reads := len(api.Calls())

	again := w.r.waitForBudget(context.Background(), w.s)
	if again == nil || again.reason != identityv1alpha1.ReasonChangeBudgetExceeded || again.message != first.message {
		t.Fatalf("the next pass: outcome = %+v, want the same budget wait", again)
	}
	if n := len(api.Calls()) - reads; n != 0 {
		t.Errorf("the waiting object made %d Graph calls before its turn, want 0: %v", n, api.Calls())
	}

	w.s.pam.Generation++ // a new spec plans again
	if o := w.r.waitForBudget(context.Background(), w.s); o != nil {
		t.Errorf("after a spec change: outcome = %+v, want the pass to plan again", o)
	}
}

func TestBudgetWaitOfReadsThePoolFromStatus(t *testing.T) {
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}}
	cases := map[string]struct {
		reason, message string
		generationAhead bool
		wantPool        budget.Pool
		wantWaiting     bool
	}{
		"waiting on destructive writes": {reason: identityv1alpha1.ReasonChangeBudgetExceeded, message: budgetExceeded(tenant, budget.Destructive, 0).message, wantPool: budget.Destructive, wantWaiting: true},
		"waiting on new phones":         {reason: identityv1alpha1.ReasonChangeBudgetExceeded, message: budgetExceeded(tenant, budget.Creates, 0).message, wantPool: budget.Creates, wantWaiting: true},
		"another reason":                {reason: identityv1alpha1.ReasonSynced},
		"a newer generation":            {reason: identityv1alpha1.ReasonChangeBudgetExceeded, message: "x", generationAhead: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			pam.Status.ObservedGeneration = 2
			if tc.generationAhead {
				pam.Generation = 3
			}
			pam.Status.Conditions = []metav1.Condition{{Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: tc.reason, Message: tc.message}}
			pool, waiting := budgetWaitOf(pam)
			if pool != tc.wantPool || waiting != tc.wantWaiting {
				t.Errorf("budgetWaitOf = (%q, %v), want (%q, %v)", pool, waiting, tc.wantPool, tc.wantWaiting)
			}
		})
	}
}
