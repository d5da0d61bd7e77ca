package controllers

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/plan"
)

func TestWriteIsNews(t *testing.T) {
	cases := map[string]struct {
		// the write and the object's history
		kind                   plan.ActionKind
		wasReady, createdPhone bool
		// expected
		news bool
	}{
		"a new object's phone is what it asked for":            {kind: plan.Create, news: false},
		"a converged object's phone re-created was gone":       {kind: plan.Create, wasReady: true, news: true},
		"SMS sign-in on the phone just created is part of it":  {kind: plan.DisableSMS, createdPhone: true, news: false},
		"SMS sign-in on a re-created phone is part of it too":  {kind: plan.EnableSMS, wasReady: true, createdPhone: true, news: false},
		"SMS sign-in changed on an existing phone":             {kind: plan.EnableSMS, news: true},
		"SMS sign-in changed on a converged object's phone":    {kind: plan.DisableSMS, wasReady: true, news: true},
		"a number replaced at onboarding: the old one is gone": {kind: plan.UpdateNumber, news: true},
		"a number replaced later":                              {kind: plan.UpdateNumber, wasReady: true, news: true},
		"a phone deleted":                                      {kind: plan.Delete, wasReady: true, news: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := writeIsNews(tc.kind, tc.wasReady, tc.createdPhone); got != tc.news {
				t.Errorf("writeIsNews(%s, wasReady %v, createdPhone %v) = %v, want %v", tc.kind, tc.wasReady, tc.createdPhone, got, tc.news)
			}
		})
	}
}

// TestOnboardingANewPhoneRecordsNoEvent: converging a new object onto a user without a phone
// (create, then SMS sign-in off on the new phone) records no Event; the same writes for an
// object that had converged before (its phone deleted behind phoneop's back) do.
func TestOnboardingANewPhoneRecordsNoEvent(t *testing.T) {
	cases := map[string]struct {
		wasReady   bool
		wantEvents string
	}{
		"a new object":                      {wasReady: false, wantEvents: ""},
		"an object that had converged once": {wasReady: true, wantEvents: identityv1alpha1.ReasonCreated},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			book := newPhoneBook()
			api := fakeGraph(book)
			api.DisableSMSSignInFunc = func(context.Context, string, string) error {
				m, _ := book.get("mobile")
				m.SMSSignInState = "notEnabled"
				book.mu.Lock()
				book.methods["mobile"] = m
				book.mu.Unlock()
				return nil
			}
			w := newUnitWorld(api, func(p *identityv1alpha1.PhoneAuthMethod) {
				off := identityv1alpha1.SMSSignInDisabled
				p.Spec.SMSSignIn = &off
			})
			w.s.wasReady = tc.wasReady

			if o := w.converge(t); !o.ready {
				t.Fatalf("outcome = %+v, want converged", o)
			}
			if got, want := strings.Join(api.Calls(), ","), "ListPhoneMethods,CreatePhoneMethod,DisableSMSSignIn,ListPhoneMethods"; got != want {
				t.Fatalf("Graph calls = %s, want %s", got, want)
			}
			if got := strings.Join(w.eventReasons(), ","); got != tc.wantEvents {
				t.Errorf("events = %q, want %q", got, tc.wantEvents)
			}
		})
	}
}

// TestAdoptingAPhoneRecordsNoEvent: objects for phones already in Graph (in place, or observed
// only) become Ready or Planned without a single Event.
func TestAdoptingAPhoneRecordsNoEvent(t *testing.T) {
	f := newFixture(t)
	inPlace := f.addUser("ada.adopt@contoso.com")
	observed := f.addUser("obi.adopt@contoso.com")
	f.g.Expect(emu.SetPhoneMethod(f.tenantID, inPlace, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: "+1 2065550160"})).To(Succeed())
	f.g.Expect(emu.SetPhoneMethod(f.tenantID, observed, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: "+1 2065550161"})).To(Succeed())
	kept := f.pam("ada-mobile", "ada.adopt@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550160")
	planned := f.pam("obi-mobile", "obi.adopt@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550162", observeOnly)
	f.createReady(kept)
	f.create(planned)
	f.waitForReady(planned, metav1.ConditionFalse, identityv1alpha1.ReasonPlanned)

	flushEvents(f)
	f.g.Expect(f.eventReasons(kept)).To(BeEmpty())
	f.g.Expect(f.eventReasons(planned)).To(BeEmpty())
	f.g.Expect(f.graphWrites()).To(BeZero())
}
