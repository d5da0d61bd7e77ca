package controllers

import (
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/shard"
)

// TestAnotherShardsObjectIsLeftAlone: the suite's manager is the default shard, wired by the
// same Setup and ManagerOptions as main.go. An object labelled for another shard never enters
// its cache, so it gets no finalizer, no status and no Graph call, while an unlabelled object
// created after it converges.
func TestAnotherShardsObjectIsLeftAlone(t *testing.T) {
	f := newFixture(t)
	f.addUser("ola@contoso.com")
	f.addUser("per@contoso.com")
	f.resetStats()
	// deletionPolicy Delete: a manager that reconciled it would add its finalizer.
	theirs := f.pam("ola-mobile", "ola@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550123", deletionPolicyDelete, func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Labels = map[string]string{shard.Label: "eu-2"}
	})
	f.create(theirs)
	ours := f.pam("per-mobile", "per@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550124")
	f.create(ours)
	f.waitForReady(ours, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)

	got := &identityv1alpha1.PhoneAuthMethod{}
	f.g.Expect(apiReader.Get(f.ctx, client.ObjectKeyFromObject(theirs), got)).To(Succeed())
	f.g.Expect(got.Finalizers).To(BeEmpty(), "the default shard added its finalizer to another shard's object")
	f.g.Expect(got.Status.Conditions).To(BeEmpty(), "the default shard wrote the status of another shard's object")
	f.g.Expect(f.count(http.MethodPost, graphemu.RoutePhoneList)).To(Equal(1), "only the unlabelled object's phone is created")
	f.g.Expect(suiteShard.Selector().String()).To(Equal("!" + shard.Label))
}

// TestAnObjectLabelledAwayFromItsTenantsShardIsRefused: the tenant's shard label is the
// admin's choice; a namespace tenant leaving its object unlabelled (the suite runs the default
// shard) while the tenant belongs to shard eu-2 gets WrongShard, and no Graph call is made.
func TestAnObjectLabelledAwayFromItsTenantsShardIsRefused(t *testing.T) {
	f := newFixture(t)
	f.addUser("ada@contoso.com")
	tenant := f.entraTenant()
	unchanged := tenant.DeepCopy()
	tenant.Labels = map[string]string{shard.Label: "eu-2"}
	f.g.Expect(k8s.Patch(f.ctx, tenant, client.MergeFrom(unchanged))).To(Succeed())
	// The manager's cache must hold the relabelled tenant before the object is created:
	// otherwise its first pass may judge it against the unlabelled tenant it still caches.
	f.g.Eventually(func() map[string]string {
		cached := &identityv1alpha1.EntraTenant{}
		f.g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(tenant), cached)).To(Succeed())
		return cached.Labels
	}).Should(HaveKeyWithValue(shard.Label, "eu-2"))
	f.resetStats()
	p := f.pam("ada-mobile", "ada@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550148")
	f.create(p)
	got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonWrongShard)
	f.g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring(shard.Label+"=eu-2"))))
	f.g.Expect(f.stats()).To(BeEmpty(), "no Graph call for another shard's tenant")
}
