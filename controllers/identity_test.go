package controllers

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestAReusedUPNIsNotTheSamePerson: a departed user's object is still in Git when Entra gives
// the UPN to a new hire. The object is bound to the person it first resolved to, so neither a
// fresh lookup after the 404 nor one after a restart (an empty user cache) puts the old number
// on the new person, and deleting the stale object with deletionPolicy Delete leaves the new
// person's phone alone.
func TestAReusedUPNIsNotTheSamePerson(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run("restart="+strconv.FormatBool(restart), func(t *testing.T) {
			f := newFixture(t)
			upn := "ines" + strconv.FormatBool(restart) + "@contoso.com"
			departed := f.addUser(upn)
			p := f.pam("ines-mobile", upn, identityv1alpha1.PhoneTypeMobile, "+1 2065550142", deletionPolicyDelete)
			f.createReady(p)

			// Ines leaves; the UPN goes to a new hire who registered a phone of her own. Either
			// phoneop saw Ines gone (a 404, which drops the cached user), or the manager was
			// down meanwhile and restarts with an empty user cache.
			f.g.Expect(emu.DeleteUser(f.tenantID, departed)).To(Succeed())
			if !restart {
				f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, "ines-left")
				f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonUserNotFound)
			}
			newHire := f.addUser(upn)
			f.g.Expect(emu.SetPhoneMethod(f.tenantID, newHire, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: "+1 4255550177"})).To(Succeed())
			if restart {
				reconciler.Users.Forget(f.tenantID, upn) // what a restarted manager remembers of Ines
			}
			f.resetStats()
			f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, "new-hire-arrived")

			got := f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonUserChanged)
			f.g.Expect(got.Status.UserID).To(Equal(departed), "status.userId must keep the person the object is bound to")
			f.g.Expect(conditionTrue(got, identityv1alpha1.ConditionStalled)).To(BeTrue(), "a person must act")
			f.g.Expect(f.graphWrites()).To(BeZero(), "no write may reach the new hire")
			f.g.Expect(f.count(http.MethodGet, graphemu.RoutePhoneList)).To(BeZero(), "not even a read of the new hire's phones")

			// Deleting the stale object deletes nothing of the new hire's.
			f.g.Expect(k8s.Delete(f.ctx, p)).To(Succeed())
			waitGone(t, p)
			f.g.Expect(f.graphMethod(newHire, identityv1alpha1.PhoneTypeMobile)).NotTo(BeNil(), "the new hire's phone was deleted")
			f.g.Expect(f.graphWrites()).To(BeZero())
		})
	}
}

// TestAnExplicitUserIDConfirmsTheNewPerson: after UserChanged, setting spec.userId to the new
// person's id is the confirmation a person gives; phoneop then manages that person's phone.
func TestAnExplicitUserIDConfirmsTheNewPerson(t *testing.T) {
	f := newFixture(t)
	departed := f.addUser("joe@contoso.com")
	p := f.pam("joe-mobile", "joe@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550143")
	f.createReady(p)
	f.g.Expect(emu.DeleteUser(f.tenantID, departed)).To(Succeed())
	newHire := f.addUser("joe@contoso.com")
	reconciler.Users.Forget(f.tenantID, "joe@contoso.com")
	f.annotate(p, identityv1alpha1.AnnotationReconcileRequestedAt, "joe-changed")
	f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonUserChanged)

	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.UserID = newHire })
	got := f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	f.g.Expect(got.Status.UserID).To(Equal(newHire))
	f.g.Eventually(func() *graphemu.PhoneMethod { return f.graphMethod(newHire, identityv1alpha1.PhoneTypeMobile) }, 10*time.Second, poll).
		ShouldNot(BeNil())
}

func conditionTrue(p *identityv1alpha1.PhoneAuthMethod, condType string) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == condType {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// TestAPreDatedClaimInANewlyGrantedNamespaceDoesNotTakeOver: an object created while its
// namespace was not granted is older than the owner, but ownership goes by when phoneop first
// let an object own the phone: once its namespace is granted it is a Conflict, the owner keeps
// the phone, and the message names no object of the other namespace.
func TestAPreDatedClaimInANewlyGrantedNamespaceDoesNotTakeOver(t *testing.T) {
	f := newFixture(t)
	userID := f.addUser("uma@contoso.com")
	ns, early := f.createInUngrantedNamespace("later", "uma-mobile", "uma@contoso.com", "+1 2065550144")

	owner := f.pam("uma-mobile", "uma@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550145")
	f.createReady(owner)
	f.g.Expect(f.get(owner).Status.ClaimedAt).NotTo(BeNil(), "the owner records its claim")
	f.resetStats()

	ns.Labels = map[string]string{"phoneop.dev/tenant": f.tenant}
	f.g.Expect(k8s.Update(f.ctx, ns)).To(Succeed())
	got := f.waitForReady(early, metav1.ConditionFalse, identityv1alpha1.ReasonConflict)
	f.g.Expect(got.Status.ClaimedAt).To(BeNil())
	f.g.Expect(got.Status.Conditions).NotTo(ContainElement(HaveField("Message", ContainSubstring(f.namespace+"/"))),
		"a Conflict must not name another namespace's object")
	f.g.Expect(f.graphWrites()).To(BeZero(), "the newcomer writes nothing")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550145"))
	f.g.Expect(f.get(owner).Status.Conditions).To(ContainElement(And(HaveField("Type", identityv1alpha1.ConditionReady),
		HaveField("Status", metav1.ConditionTrue))), "the owner keeps its phone")
}

// TestARenameIntoDeniedUsersIsHonouredBeforeADestructiveWrite: the user cache may still hold
// kim's old UPN, but a number change is judged on who the user is now: Graph is asked again,
// kim is now boss@ (promoted, and denied), and the PATCH is never sent.
func TestARenameIntoDeniedUsersIsHonouredBeforeADestructiveWrite(t *testing.T) {
	f := newFixture(t, withUserScope(identityv1alpha1.UserScope{DeniedUsers: []string{"boss@contoso.com"}}))
	userID := f.addUser("kai@contoso.com")
	p := f.pam("kai-mobile", "kai@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550146")
	f.createReady(p)

	f.g.Expect(emu.AddUser(graphemu.User{TenantID: f.tenantID, ID: userID, UserPrincipalName: "boss@contoso.com"})).To(Succeed())
	f.resetStats()
	f.update(p, func(p *identityv1alpha1.PhoneAuthMethod) { p.Spec.PhoneNumber = "+1 2065550147" })
	f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonForbidden)
	f.g.Expect(f.count(http.MethodPatch, graphemu.RoutePhoneItem)).To(BeZero(), "the number of a now-denied user was changed")
	f.g.Expect(f.count(http.MethodGet, graphemu.RouteUser)).To(Equal(1), "one fresh lookup before the destructive write")
	f.g.Expect(f.graphMethod(userID, identityv1alpha1.PhoneTypeMobile).PhoneNumber).To(Equal("+1 2065550146"))
}
