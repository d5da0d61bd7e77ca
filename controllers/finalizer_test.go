package controllers

import (
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/shard"
)

// The finalizer follows the policies: only an object whose deletion needs Graph (deletionPolicy
// Delete, managementPolicy Full) carries it (finalizer.go). These tests read the finalizers
// from the API server (apiReader), not from the manager's cache.

// TestAnOrphanObjectIsDeletedWithoutPhoneop: an Orphan object carries no finalizer, so deleting
// it needs no controller: with phoneop unable to see the object (labelled for a shard no
// manager runs, as if phoneop were uninstalled or down), the delete removes it at once, and its
// phone stays in Graph.
func TestAnOrphanObjectIsDeletedWithoutPhoneop(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("orla@contoso.com")
	p := f.pam("orla-mobile", "orla@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550150")
	f.createReady(p)
	f.g.Expect(f.live(p).Finalizers).To(BeEmpty(), "an Orphan object needs no finalizer")

	f.hideFromPhoneop(p)
	f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	err := apiReader.Get(f.ctx, client.ObjectKeyFromObject(p), &identityv1alpha1.PhoneAuthMethod{})
	f.g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the object is not gone right after its delete (err %v)", err)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil(), "Orphan leaves the phone in Graph")
}

// TestADeleteObjectKeepsItsFinalizerUntilGraphsPhoneIsGone: a Delete object carries the
// finalizer; deleted while phoneop cannot act on it, it stays (Terminating) with its phone in
// Graph; once phoneop sees it again it deletes the phone, and only then is the object gone.
func TestADeleteObjectKeepsItsFinalizerUntilGraphsPhoneIsGone(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("dora@contoso.com")
	p := f.pam("dora-mobile", "dora@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550151", deletionPolicyDelete)
	f.createReady(p)
	f.g.Expect(f.live(p).Finalizers).To(ContainElement(identityv1alpha1.Finalizer))

	f.hideFromPhoneop(p)
	f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	terminating := f.live(p)
	f.g.Expect(terminating.DeletionTimestamp).NotTo(BeNil())
	f.g.Expect(terminating.Finalizers).To(ContainElement(identityv1alpha1.Finalizer), "the object waits for phoneop")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil(), "nobody deleted the phone yet")

	f.showToPhoneop(p)
	f.g.Eventually(func() bool {
		err := apiReader.Get(f.ctx, client.ObjectKeyFromObject(p), &identityv1alpha1.PhoneAuthMethod{})
		return apierrors.IsNotFound(err)
	}, eventually, poll).Should(BeTrue(), "the object was not released")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).To(BeNil(), "the object went before its phone")
}

// TestTheFinalizerFollowsThePolicies: switching to Delete adds the finalizer before the pass
// writes to Graph (here a number change made in the same edit), switching back to Orphan, or to
// a managementPolicy that never deletes, removes it. The object stays Ready throughout.
func TestTheFinalizerFollowsThePolicies(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("flo@contoso.com")
	p := f.pam("flo-mobile", "flo@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550152")
	f.createReady(p)
	f.g.Expect(f.live(p).Finalizers).To(BeEmpty())

	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyDelete
		p.Spec.PhoneNumber = "+1 2065550153"
	})
	f.g.Eventually(func() string {
		return f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber
	}, eventually, poll).Should(Equal("+1 2065550153"))
	f.g.Expect(f.live(p).Finalizers).To(ContainElement(identityv1alpha1.Finalizer),
		"phoneop wrote to Graph for a Delete object before it could hold its deletion")
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyObserveOnly
	})
	f.waitForFinalizer(p, false)
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyFull
	})
	f.waitForFinalizer(p, true)
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyOrphan
	})
	f.waitForFinalizer(p, false)
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	// Deleting it now needs no phoneop, and leaves the phone.
	f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
	waitGone(t, p)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())
}

// TestASwitchToDeleteCountsOnceTheFinalizerIsOn: the policy that counts is the one phoneop has
// answered with the finalizer. An Orphan object switched to Delete and deleted before phoneop's
// next pass (here: phoneop cannot see it) is deleted as Orphan, and its phone stays: what
// operations.md tells users to check before relying on a switch.
func TestASwitchToDeleteCountsOnceTheFinalizerIsOn(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("sid@contoso.com")
	p := f.pam("sid-mobile", "sid@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550155")
	f.createReady(p)

	f.hideFromPhoneop(p)
	live := f.live(p)
	live.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyDelete
	f.g.Expect(k8s.Update(f.ctx, live)).To(Succeed())
	f.g.Expect(k8s.Delete(f.ctx, live)).To(Succeed())
	err := apiReader.Get(f.ctx, client.ObjectKeyFromObject(p), &identityv1alpha1.PhoneAuthMethod{})
	f.g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the object waited for a finalizer it never had (err %v)", err)
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil())
}

// TestAnOrphanObjectLosesTheFinalizerItCarriedBefore: phoneop used to put its finalizer on every
// object; an Orphan object that still carries it (an upgrade) loses it at its next pass, so that
// it, and its namespace, can be deleted without phoneop.
func TestAnOrphanObjectLosesTheFinalizerItCarriedBefore(t *testing.T) {
	f := newFixture(t)
	f.addUser("uli@contoso.com")
	p := f.pam("uli-mobile", "uli@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550154", func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Finalizers = []string{identityv1alpha1.Finalizer}
	})
	f.createReady(p)
	f.waitForFinalizer(p, false)
}

func TestNeedsFinalizer(t *testing.T) {
	cases := map[string]struct {
		// the object's policies
		deletion   identityv1alpha1.DeletionPolicy
		management identityv1alpha1.ManagementPolicy
		// expected
		needs bool
	}{
		"Delete and Full: the phone is deleted from Graph": {deletion: identityv1alpha1.DeletionPolicyDelete, management: identityv1alpha1.ManagementPolicyFull, needs: true},
		"Delete with the management policy left empty":     {deletion: identityv1alpha1.DeletionPolicyDelete, needs: true},
		"Orphan leaves the phone":                          {deletion: identityv1alpha1.DeletionPolicyOrphan, management: identityv1alpha1.ManagementPolicyFull},
		"the deletion policy left empty is Orphan":         {management: identityv1alpha1.ManagementPolicyFull},
		"ObserveOnly never deletes, whatever the policy":   {deletion: identityv1alpha1.DeletionPolicyDelete, management: identityv1alpha1.ManagementPolicyObserveOnly},
		"CreateOnly never deletes either":                  {deletion: identityv1alpha1.DeletionPolicyDelete, management: identityv1alpha1.ManagementPolicyCreateOnly},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := &identityv1alpha1.PhoneAuthMethod{Spec: identityv1alpha1.PhoneAuthMethodSpec{DeletionPolicy: tc.deletion, ManagementPolicy: tc.management}}
			if got := needsFinalizer(p); got != tc.needs {
				t.Errorf("needsFinalizer(deletionPolicy %q, managementPolicy %q) = %v, want %v", tc.deletion, tc.management, got, tc.needs)
			}
		})
	}
}

// live reads the object from the API server, past the manager's cache.
func (f *fixture) live(p *identityv1alpha1.PhoneAuthMethod) *identityv1alpha1.PhoneAuthMethod {
	f.t.Helper()
	got := &identityv1alpha1.PhoneAuthMethod{}
	f.g.Expect(apiReader.Get(f.ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
	return got
}

// waitForFinalizer waits until the object, on the API server, carries phoneop's finalizer or not.
func (f *fixture) waitForFinalizer(p *identityv1alpha1.PhoneAuthMethod, want bool) {
	f.t.Helper()
	f.g.Eventually(func() bool {
		return controllerutil.ContainsFinalizer(f.live(p), identityv1alpha1.Finalizer)
	}, eventually, poll).Should(Equal(want), "finalizer present")
}

// hideFromPhoneop labels the object for a shard no manager runs and waits until the suite's
// manager no longer caches it: from then on phoneop cannot act on it, as if it were down.
func (f *fixture) hideFromPhoneop(p *identityv1alpha1.PhoneAuthMethod) {
	f.t.Helper()
	f.setShardLabel(p, "nobody")
	f.g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(f.ctx, client.ObjectKeyFromObject(p), &identityv1alpha1.PhoneAuthMethod{}))
	}, eventually, poll).Should(BeTrue(), "the manager still caches the object")
}

// showToPhoneop removes the shard label again: the suite's manager sees the object anew.
func (f *fixture) showToPhoneop(p *identityv1alpha1.PhoneAuthMethod) {
	f.t.Helper()
	f.setShardLabel(p, "")
}

// setShardLabel sets (or, with "", removes) the shard label, read from the API server: the
// manager's cache does not hold an object of another shard.
func (f *fixture) setShardLabel(p *identityv1alpha1.PhoneAuthMethod, value string) {
	f.t.Helper()
	live := f.live(p)
	unchanged := live.DeepCopy()
	labels := live.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	if value == "" {
		delete(labels, shard.Label)
	} else {
		labels[shard.Label] = value
	}
	live.SetLabels(labels)
	f.g.Expect(k8s.Patch(f.ctx, live, client.MergeFrom(unchanged))).To(Succeed())
}
