package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/phoneop/phoneop/internal/graph/methodid"
)

const (
	mobileID    = methodid.Mobile
	alternateID = methodid.AlternateMobile
	officeID    = methodid.Office

	kimMobile    = "+1 2065555554"
	kimNewMobile = "+1 2065550000"
	kimAlternate = "+1 4255551212"
	kimOffice    = "+1 4255550100x123"
)

// global is the Policy of clouds that can manage SMS sign-in.
var global = Policy{SMSSignInSupported: true}

// retirementDay is a retirement instant for tests.
var retirementDay = time.Date(2027, time.February, 1, 0, 0, 0, 0, time.UTC)

// retired is the Policy of a cloud whose SMS sign-in retired a day ago.
var retired = Policy{SMSSignInSupported: true, SMSSignInRetiresAt: retirementDay, Now: retirementDay.Add(24 * time.Hour)}

func mobile(number, state string) Method {
	return Method{ID: mobileID, PhoneType: Mobile, Number: number, SMSSignInState: state}
}

func alternate(number string) Method {
	return Method{ID: alternateID, PhoneType: AlternateMobile, Number: number, SMSSignInState: StateNotSupported}
}

func office(number string) Method {
	return Method{ID: officeID, PhoneType: Office, Number: number, SMSSignInState: StateNotSupported}
}

func observed(ms ...Method) Observed { return Observed{Methods: ms} }

// madeBefore records, in got, that the actions were made against got.
func madeBefore(got Observed, actions ...Action) Observed {
	for _, a := range actions {
		got.WritesMade = append(got.WritesMade, WriteKey(a, got))
	}
	return got
}

// withMade is got with keys of writes made against some other observation.
func withMade(got Observed, keys []string) Observed {
	got.WritesMade = keys
	return got
}

// blocker builds an expected Blocker; messages are checked separately by
// TestBlockerMessages, so tables compare reasons only.
func blocker(kind BlockerKind, reason string) *Blocker { return &Blocker{Kind: kind, Reason: reason} }

var ignoreMessage = cmpopts.IgnoreFields(Blocker{}, "Message")

type planCase struct {
	reason string
	// plan inputs
	want   Desired
	got    Observed
	policy Policy
	// expected outputs
	wantActions  []Action
	wantWait     *Blocker
	wantWithheld []Action
	wantKept     bool
}

func planCases() map[string]planCase {
	return map[string]planCase{
		// --- CreateOnly: prefill, never overwrite ---
		"createonly creates a missing mobile like full": {
			reason: "A new hire has no phone yet: prefill it, SMS sign-in included.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled, CreateOnly: true},
			got:    observed(),
			policy: global,
			wantActions: []Action{{Kind: Create, PhoneType: Mobile, Number: kimMobile},
				{Kind: DisableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"createonly keeps a different number the user registered": {
			reason:       "The user's own phone is never overwritten; Full's change is only reported.",
			want:         Desired{PhoneType: Mobile, Number: kimNewMobile, CreateOnly: true},
			got:          observed(mobile(kimMobile, StateReady)),
			policy:       global,
			wantWithheld: []Action{{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}},
			wantKept:     true,
		},
		"createonly keeps sms sign-in of an existing phone": {
			reason:       "SMS sign-in of a phone phoneop did not create is left as it is.",
			want:         Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled, CreateOnly: true},
			got:          observed(mobile(kimMobile, StateNotEnabled)),
			policy:       global,
			wantWithheld: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
			wantKept:     true,
		},
		"createonly sets sms sign-in on the phone it just created": {
			reason:      "The phone is phoneop's own from this pass: SMS sign-in follows the spec.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled, CreateOnly: true, CreatedThisPass: true},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			policy:      global,
			wantActions: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"createonly with the phone as specified is simply up to date": {
			reason: "Nothing kept, nothing withheld.",
			want:   Desired{PhoneType: Office, Number: kimOffice, CreateOnly: true},
			got:    observed(office(kimOffice)),
			policy: global,
		},
		"createonly keeps a masked phone without reading it": {
			reason:   "CreateOnly never changes an existing phone, so a masked number needs no permission.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, CreateOnly: true},
			got:      observed(mobile("+1 ********54", StateReady)),
			policy:   global,
			wantKept: true,
		},
		"createonly alternate still waits for the mobile": {
			reason:   "Creating the alternate needs the mobile first, as in Full.",
			want:     Desired{PhoneType: AlternateMobile, Number: kimAlternate, CreateOnly: true},
			got:      observed(),
			policy:   global,
			wantWait: blocker(WaitsForSibling, ReasonMobileRequired),
		},
		// --- what Graph is observed to do (Graph-as-observed, see graph-phone-methods.md) ---
		"a masked observed number is never written over": {
			reason:   "A caller without full read rights sees +1 ********34; comparing or overwriting it would loop.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile("+1 ********54", StateNotEnabled)),
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonNumberUnreadable),
		},
		"an empty observed number is never written over": {
			reason:   "An empty number on an existing method says nothing about the number.",
			want:     Desired{PhoneType: Office, Number: kimOffice},
			got:      observed(office("")),
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonNumberUnreadable),
		},
		"a number stored without the space is the same number": {
			reason: "Graph accepts and may return E.164 without the space; that is not drift.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile("+12065555554", StateReady)),
			policy: global,
		},
		"a number stored with separators is the same number": {
			reason: "Spacing and punctuation are not part of the number.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile("+1 206-555-5554", StateReady)),
			policy: global,
		},
		"a number stored with the national trunk prefix is the same number": {
			reason: "+44 07700900123 and +44 7700900123 dial the same phone.",
			want:   Desired{PhoneType: Office, Number: "+44 7700900123"},
			got:    observed(office("+44 07700900123")),
			policy: global,
		},
		"an extension on a mobile is invalid": {
			reason:   "Entra supports extensions on office phones only; a Secret's number is checked here, not at admission.",
			want:     Desired{PhoneType: Mobile, Number: "+1 2065555554x12"},
			got:      observed(),
			policy:   global,
			wantWait: blocker(NeedsSpecChange, ReasonInvalidNumber),
		},
		"a refused create that did not save waits for an admin": {
			reason:   "409 phoneNumberNotUnique usually saves the method; when the re-read shows none, posting again would be refused again.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile},
			got:      Observed{NumberWriteRefused: true},
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonPhoneNumberNotUnique),
		},
		"a refused update that did not save waits for an admin": {
			reason:   "A PATCH answered 409 without saving leaves the old number: patching again would be refused again.",
			want:     Desired{PhoneType: Mobile, Number: kimNewMobile},
			got:      Observed{Methods: []Method{mobile(kimMobile, StateReady)}, NumberWriteRefused: true},
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonPhoneNumberNotUnique),
		},
		"a write Graph accepted and does not show is not made again": {
			reason:   "Graph took this PATCH against this very observation and still shows the old number: patching again would loop.",
			want:     Desired{PhoneType: Mobile, Number: kimNewMobile},
			got:      madeBefore(observed(mobile(kimMobile, StateReady)), Action{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}),
			policy:   global,
			wantWait: blocker(NeedsSpecChange, ReasonWriteNotReflected),
		},
		"a repeated write ends the plan there, and the writes before it still happen": {
			reason:      "The number change is new; enabling SMS sign-in against this observation was made before and would repeat.",
			want:        Desired{PhoneType: Mobile, Number: kimNewMobile, SMSSignIn: SMSEnabled},
			got:         madeBefore(observed(mobile(kimMobile, StateNotEnabled)), Action{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}),
			policy:      global,
			wantActions: []Action{{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}},
			wantWait:    blocker(NeedsSpecChange, ReasonWriteNotReflected),
		},
		"a write made against another observation is made": {
			reason:      "The guard is per observation: once Graph shows something new, the same write may be made against it.",
			want:        Desired{PhoneType: Mobile, Number: kimNewMobile},
			got:         withMade(observed(mobile(kimMobile, StateReady)), madeBefore(observed(mobile(kimAlternate, StateReady)), Action{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}).WritesMade),
			policy:      global,
			wantActions: []Action{{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}},
		},
		"a refused create that saved the method converges": {
			reason: "The usual 409: the method is there after the re-read.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    Observed{Methods: []Method{mobile(kimMobile, StatePhoneNumberNotUnique)}, NumberWriteRefused: true},
			policy: global,
		},
		// --- the number ---
		"a missing mobile is created": {
			reason:      "No mobile in Graph means Create with the desired number.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile},
			got:         observed(),
			policy:      global,
			wantActions: []Action{{Kind: Create, PhoneType: Mobile, Number: kimMobile}},
		},
		"a create sends the canonical number": {
			reason:      "A number from a Secret may have extra spaces; Graph accepts only its format.",
			want:        Desired{PhoneType: Mobile, Number: "  +1 206 555 5554 "},
			got:         observed(),
			policy:      global,
			wantActions: []Action{{Kind: Create, PhoneType: Mobile, Number: kimMobile}},
		},
		"a mobile with the same number is up to date": {
			reason: "Nothing differs.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile(kimMobile, StateNotEnabled)),
			policy: global,
		},
		"a number Graph returns with other spacing is up to date": {
			reason: "Numbers compare after normalisation, so spacing is not drift.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile("+1 206 555 5554", StateNotEnabled)),
			policy: global,
		},
		"the case of the extension marker is not drift": {
			reason: "X and x are the same extension marker.",
			want:   Desired{PhoneType: Office, Number: "+1 4255550100X123"},
			got:    observed(office(kimOffice)),
			policy: global,
		},
		"a different number is updated in place": {
			reason:      "The method exists with another number, so PATCH it by id.",
			want:        Desired{PhoneType: Mobile, Number: kimNewMobile},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			policy:      global,
			wantActions: []Action{{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}},
		},
		"an invalid desired number waits without writing": {
			reason:   "Graph would reject it; the spec or Secret must change.",
			want:     Desired{PhoneType: Mobile, Number: "206-555-5554"},
			got:      observed(),
			policy:   global,
			wantWait: blocker(NeedsSpecChange, ReasonInvalidNumber),
		},
		"an empty desired number waits without writing": {
			reason:   "An empty Secret key must not delete or blank a number.",
			want:     Desired{PhoneType: Mobile, Number: ""},
			got:      observed(mobile(kimMobile, StateReady)),
			policy:   global,
			wantWait: blocker(NeedsSpecChange, ReasonInvalidNumber),
		},
		"an unknown phone type waits without writing": {
			reason:   "The planner does not trust admission to have caught it.",
			want:     Desired{PhoneType: "pager", Number: kimMobile},
			got:      observed(),
			policy:   global,
			wantWait: blocker(NeedsSpecChange, ReasonInvalidPhoneType),
		},

		// --- SMS sign-in retirement (the public cloud: 2027-02-01) ---
		"enabled before the retirement still enables (and carries a notice)": {
			reason:      "Before the date SMS sign-in works; TestSMSSignInRetirement checks the notice.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			policy:      Policy{SMSSignInSupported: true, SMSSignInRetiresAt: retirementDay, Now: retirementDay.Add(-time.Hour)},
			wantActions: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"enabled after the retirement makes no enable call": {
			reason:   "SMS sign-in is retired: enabling is never planned, whatever state Graph reports.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile(kimMobile, StateNotEnabled)),
			policy:   retired,
			wantWait: blocker(NeedsSpecChange, ReasonSmsSignInRetired),
		},
		"a new mobile is still created after the retirement, without SMS sign-in": {
			reason:      "Phones stay registered and keep serving MFA; only the enable call goes.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:         observed(),
			policy:      retired,
			wantActions: []Action{{Kind: Create, PhoneType: Mobile, Number: kimMobile}},
			wantWait:    blocker(NeedsSpecChange, ReasonSmsSignInRetired),
		},
		"disabled still cleans up after the retirement": {
			reason:      "Disabling SMS sign-in that Graph still reports ready is the clean-up the message asks for.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:         observed(mobile(kimMobile, StateReady)),
			policy:      retired,
			wantActions: []Action{{Kind: DisableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"disabled is up to date when Graph reads notAllowedByPolicy after the retirement": {
			reason: "Graph may report the retirement as a policy refusal: SMS sign-in is off, as wanted.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:    observed(mobile(kimMobile, StateNotAllowedByPolicy)),
			policy: retired,
		},

		// --- alternateMobile needs a mobile ---
		"alternate waits for mobile": {
			reason:   "Graph adds an alternateMobile only to a user with a mobile.",
			want:     Desired{PhoneType: AlternateMobile, Number: kimAlternate},
			got:      observed(office(kimOffice)),
			policy:   global,
			wantWait: blocker(WaitsForSibling, ReasonMobileRequired),
		},
		"an alternate is created once the mobile exists": {
			reason:      "The mobile is there, so the alternate can be added.",
			want:        Desired{PhoneType: AlternateMobile, Number: kimAlternate},
			got:         observed(mobile(kimMobile, StateReady)),
			policy:      global,
			wantActions: []Action{{Kind: Create, PhoneType: AlternateMobile, Number: kimAlternate}},
		},
		"an alternate with a different number is updated": {
			reason:      "Same as a mobile: PATCH by id.",
			want:        Desired{PhoneType: AlternateMobile, Number: kimNewMobile},
			got:         observed(mobile(kimMobile, StateReady), alternate(kimAlternate)),
			policy:      global,
			wantActions: []Action{{Kind: UpdateNumber, PhoneType: AlternateMobile, MethodID: alternateID, Number: kimNewMobile}},
		},
		"an office phone does not need a mobile": {
			reason:      "Only alternateMobile depends on mobile; the extension is sent with a lower-case x.",
			want:        Desired{PhoneType: Office, Number: "+1 4255550100X123"},
			got:         observed(),
			policy:      global,
			wantActions: []Action{{Kind: Create, PhoneType: Office, Number: kimOffice}},
		},

		// --- SMS sign-in ---
		"unmanaged sms never enables": {
			reason: "smsSignIn omitted means hands off, even when SMS is not enabled.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile(kimMobile, StateNotEnabled)),
			policy: global,
		},
		"unmanaged sms never disables": {
			reason: "smsSignIn omitted means hands off, even when SMS is ready.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile(kimMobile, StateReady)),
			policy: global,
		},
		"unmanaged sms ignores an unknown state": {
			reason: "An unmanaged setting cannot be blocked by a state it does not care about.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile(kimMobile, StateUnknownFutureValue)),
			policy: global,
		},
		"enabled and ready is up to date": {
			reason: "SMS sign-in already works.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:    observed(mobile(kimMobile, StateReady)),
			policy: global,
		},
		"enabled and notEnabled enables": {
			reason:      "The number is in place but not enabled.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			policy:      global,
			wantActions: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"enabled and notConfigured enables": {
			reason:      "Allowed by policy but not set up yet.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateNotConfigured)),
			policy:      global,
			wantActions: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"enabled but not allowed by policy waits for an admin": {
			reason:   "Calling enable would fail; an admin must change the policy.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile(kimMobile, StateNotAllowedByPolicy)),
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonSmsNotAllowedByPolicy),
		},
		"enabled but number not unique waits for an admin": {
			reason:   "Another user holds the number for SMS sign-in.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile(kimMobile, StatePhoneNumberNotUnique)),
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonPhoneNumberNotUnique),
		},
		"enabled and unknownFutureValue does not guess": {
			reason:   "An evolvable-enum sentinel gets no SMS action.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile(kimMobile, StateUnknownFutureValue)),
			policy:   global,
			wantWait: blocker(UnknownGraphState, ReasonSmsSignInStateUnknown),
		},
		"enabled and a state added later does not guess": {
			reason:   "A value unknown to this code gets no SMS action.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile(kimMobile, "pendingVerification")),
			policy:   global,
			wantWait: blocker(UnknownGraphState, ReasonSmsSignInStateUnknown),
		},
		"enabled and notSupported on a mobile does not guess": {
			reason:   "notSupported contradicts a mobile; enabling would fail.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:      observed(mobile(kimMobile, StateNotSupported)),
			policy:   global,
			wantWait: blocker(UnknownGraphState, ReasonSmsSignInStateUnknown),
		},
		"a new mobile with sms enabled is created then enabled": {
			reason: "SMS is enabled only after the number is in place; the mobile id is Graph's fixed one.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:    observed(),
			policy: global,
			wantActions: []Action{
				{Kind: Create, PhoneType: Mobile, Number: kimMobile},
				{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID},
			},
		},
		"a changed number with sms enabled is updated then enabled": {
			reason: "The old number's state says nothing about the new number.",
			want:   Desired{PhoneType: Mobile, Number: kimNewMobile, SMSSignIn: SMSEnabled},
			got:    observed(mobile(kimMobile, StatePhoneNumberNotUnique)),
			policy: global,
			wantActions: []Action{
				{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile},
				{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID},
			},
		},
		"disabled and ready disables": {
			reason:      "SMS sign-in is on and must be off.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:         observed(mobile(kimMobile, StateReady)),
			policy:      global,
			wantActions: []Action{{Kind: DisableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"disabled and notEnabled is up to date": {
			reason: "SMS sign-in is already off.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:    observed(mobile(kimMobile, StateNotEnabled)),
			policy: global,
		},
		"disabled and not allowed by policy is up to date": {
			reason: "Policy keeps SMS sign-in off, which is what is wanted.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:    observed(mobile(kimMobile, StateNotAllowedByPolicy)),
			policy: global,
		},
		"disabled and unknownFutureValue does not guess": {
			reason:   "It is unknown whether SMS sign-in is on.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:      observed(mobile(kimMobile, StateUnknownFutureValue)),
			policy:   global,
			wantWait: blocker(UnknownGraphState, ReasonSmsSignInStateUnknown),
		},
		"a new mobile with sms disabled is created then disabled": {
			reason: "Graph may auto-register a new mobile; the plan states the intent right after the create.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:    observed(),
			policy: global,
			wantActions: []Action{
				{Kind: Create, PhoneType: Mobile, Number: kimMobile},
				{Kind: DisableSMS, PhoneType: Mobile, MethodID: mobileID},
			},
		},
		"sms on an office phone waits after the number is in place": {
			reason:      "Only a mobile can do SMS sign-in; the number itself is still managed.",
			want:        Desired{PhoneType: Office, Number: kimOffice, SMSSignIn: SMSEnabled},
			got:         observed(),
			policy:      global,
			wantActions: []Action{{Kind: Create, PhoneType: Office, Number: kimOffice}},
			wantWait:    blocker(NeedsSpecChange, ReasonSmsSignInOnlyOnMobile),
		},
		"managed sms in a cloud without it waits after the number is in place": {
			reason:      "China cannot enable or disable SMS sign-in; the number is still managed.",
			want:        Desired{PhoneType: Mobile, Number: kimNewMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			policy:      Policy{SMSSignInSupported: false},
			wantActions: []Action{{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}},
			wantWait:    blocker(NeedsSpecChange, ReasonSmsSignInNotSupported),
		},
		"unmanaged sms in a cloud without it is fine": {
			reason: "Without smsSignIn the cloud's limits do not matter.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile},
			got:    observed(mobile(kimMobile, StateNotEnabled)),
			policy: Policy{SMSSignInSupported: false},
		},
		"sms not allowed by policy does not hold back the number": {
			reason: "The number is corrected first; the blocker is about SMS only.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:    observed(mobile("+1 206 555 5554", StateNotAllowedByPolicy)),
			policy: global,
			// The number matches after normalisation, so only the wait remains.
			wantWait: blocker(NeedsEntraAdmin, ReasonSmsNotAllowedByPolicy),
		},

		// --- deletion ---
		"deleting a mobile deletes it": {
			reason:      "deletionPolicy Delete removes the method; the observed number is recorded.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, Deleting: true},
			got:         observed(mobile(kimMobile, StateReady), office(kimOffice)),
			policy:      global,
			wantActions: []Action{{Kind: Delete, PhoneType: Mobile, MethodID: mobileID, Number: kimMobile}},
		},
		"deleting a mobile that is gone is up to date": {
			reason: "Nothing to delete, so the finalizer can go.",
			want:   Desired{PhoneType: Mobile, Number: kimMobile, Deleting: true},
			got:    observed(office(kimOffice)),
			policy: global,
		},
		"deleting a mobile with an unmanaged alternate in graph needs an admin": {
			reason:   "Graph refuses to delete a mobile while an alternateMobile exists, and no object will delete this one.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, Deleting: true},
			got:      observed(mobile(kimMobile, StateReady), alternate(kimAlternate)),
			policy:   global,
			wantWait: blocker(NeedsEntraAdmin, ReasonAlternateMobileExists),
		},
		"deleting a mobile waits for the alternate object that manages graph's alternate": {
			reason:   "The sibling object will delete the alternate in Graph, so this is a wait, not a person's job.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, Deleting: true},
			got:      Observed{Methods: []Method{mobile(kimMobile, StateReady), alternate(kimAlternate)}, SiblingAlternateExists: true},
			policy:   global,
			wantWait: blocker(WaitsForSibling, ReasonAlternateMobileExists),
		},
		"deleting a mobile waits for the alternate object": {
			reason:   "The sibling alternate object is deleted first even before Graph shows an alternate.",
			want:     Desired{PhoneType: Mobile, Number: kimMobile, Deleting: true},
			got:      Observed{Methods: []Method{mobile(kimMobile, StateReady)}, SiblingAlternateExists: true},
			policy:   global,
			wantWait: blocker(WaitsForSibling, ReasonAlternateMobileExists),
		},
		"deleting an alternate does not wait": {
			reason:      "An alternate can always be deleted.",
			want:        Desired{PhoneType: AlternateMobile, Number: kimAlternate, Deleting: true},
			got:         observed(mobile(kimMobile, StateReady), alternate(kimAlternate)),
			policy:      global,
			wantActions: []Action{{Kind: Delete, PhoneType: AlternateMobile, MethodID: alternateID, Number: kimAlternate}},
		},
		"deleting an office phone ignores the alternate": {
			reason:      "Only a mobile depends on the alternate being gone.",
			want:        Desired{PhoneType: Office, Number: kimOffice, Deleting: true},
			got:         Observed{Methods: []Method{mobile(kimMobile, StateReady), alternate(kimAlternate), office(kimOffice)}, SiblingAlternateExists: true},
			policy:      global,
			wantActions: []Action{{Kind: Delete, PhoneType: Office, MethodID: officeID, Number: kimOffice}},
		},
		"deleting with an invalid desired number still deletes": {
			reason:      "The desired number does not matter for deletion; a bad spec must not block it.",
			want:        Desired{PhoneType: Office, Number: "not a number", Deleting: true},
			got:         observed(office(kimOffice)),
			policy:      global,
			wantActions: []Action{{Kind: Delete, PhoneType: Office, MethodID: officeID, Number: kimOffice}},
		},
		"deleting ignores sms sign-in and the cloud": {
			reason:      "A method being deleted needs no SMS change first.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled, Deleting: true},
			got:         observed(mobile(kimMobile, StateNotAllowedByPolicy)),
			policy:      Policy{SMSSignInSupported: false},
			wantActions: []Action{{Kind: Delete, PhoneType: Mobile, MethodID: mobileID, Number: kimMobile}},
		},
	}
}

func TestPlan(t *testing.T) {
	for name, tc := range planCases() {
		t.Run(name, func(t *testing.T) {
			got := Plan(tc.want, tc.got, tc.policy)
			if diff := cmp.Diff(tc.wantActions, got.Actions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nPlan(...).Actions: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantWait, got.Wait, ignoreMessage); diff != "" {
				t.Errorf("%s\nPlan(...).Wait: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantWithheld, got.Withheld, cmpopts.EquateEmpty()); diff != "" || got.Kept != tc.wantKept {
				t.Errorf("%s\nPlan(...).Withheld: -want, +got:\n%s\nKept = %v, want %v", tc.reason, diff, got.Kept, tc.wantKept)
			}
			wantUpToDate := len(tc.wantActions) == 0 && tc.wantWait == nil
			if got.UpToDate() != wantUpToDate {
				t.Errorf("%s\nPlan(...).UpToDate(): want %v, got %v", tc.reason, wantUpToDate, got.UpToDate())
			}
		})
	}
}

// TestBlockerMessages checks every message the table produces: one
// sentence, saying something, and never containing a number's digits.
func TestBlockerMessages(t *testing.T) {
	for name, tc := range planCases() {
		got := Plan(tc.want, tc.got, tc.policy)
		if got.Wait == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			msg := got.Wait.Message
			if msg == "" || !strings.HasSuffix(msg, ".") || strings.Count(msg, ". ") > 0 {
				t.Errorf("message is not one sentence: %q", msg)
			}
			if first := msg[0]; first < 'A' || first > 'Z' {
				t.Errorf("message does not start with a capital letter: %q", msg)
			}
			if hasDigitRun(msg, 4) {
				t.Errorf("message contains a run of digits, possibly a number: %q", msg)
			}
		})
	}
}

func TestBlockerMessagesDoNotEchoInput(t *testing.T) {
	cases := map[string]struct {
		want Desired
		got  Observed
	}{
		"an invalid number is not echoed": {
			want: Desired{PhoneType: Mobile, Number: "+999 2065555554"}, // no country has +999
		},
		"a phone type that looks like a number is not echoed": {
			want: Desired{PhoneType: "+1 2065555554", Number: kimMobile},
		},
		"a state that looks like a number is not echoed": {
			want: Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:  observed(mobile(kimMobile, "2065555554")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := Plan(tc.want, tc.got, global)
			if res.Wait == nil {
				t.Fatalf("want a Wait, got %+v", res)
			}
			if strings.Contains(res.Wait.Message, "555") {
				t.Errorf("message echoes input: %q", res.Wait.Message)
			}
		})
	}
}

func TestActionString(t *testing.T) {
	cases := map[string]struct {
		in   Action
		want string
	}{
		"create masks the number": {
			in:   Action{Kind: Create, PhoneType: Mobile, Number: kimMobile},
			want: "Create mobile +1 *******554",
		},
		"update masks the number and hides the id": {
			in:   Action{Kind: UpdateNumber, PhoneType: Office, MethodID: officeID, Number: kimOffice},
			want: "UpdateNumber office +1 *******100x***",
		},
		"delete masks the observed number": {
			in:   Action{Kind: Delete, PhoneType: AlternateMobile, MethodID: alternateID, Number: kimAlternate},
			want: "Delete alternateMobile +1 *******212",
		},
		"an sms action has no number": {
			in:   Action{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID},
			want: "EnableSMS mobile",
		},
		"a garbage number is hidden entirely": {
			in:   Action{Kind: Create, PhoneType: Mobile, Number: "206-555-5554"},
			want: "Create mobile ***",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("String(): want %q, got %q", tc.want, got)
			}
		})
	}
}

func TestResultStrings(t *testing.T) {
	res := Plan(Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled}, observed(), global)
	want := []string{"Create mobile +1 *******554", "EnableSMS mobile"}
	if diff := cmp.Diff(want, res.Strings()); diff != "" {
		t.Errorf("Strings(): -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, Result{}.Strings()); diff != "" {
		t.Errorf("Strings() of an empty plan must be an empty, non-nil list: -want, +got:\n%s", diff)
	}
}

func TestWellKnownMethodID(t *testing.T) {
	for pt, want := range map[PhoneType]string{Mobile: mobileID, AlternateMobile: alternateID, Office: officeID, "pager": ""} {
		if got := WellKnownMethodID(pt); got != want {
			t.Errorf("WellKnownMethodID(%q): want %q, got %q", pt, want, got)
		}
	}
}

// hasDigitRun reports whether s holds n or more ASCII digits in a row.
func hasDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func TestQuoteWord(t *testing.T) {
	long := strings.Repeat("a", 65)
	cases := map[string]struct{ in, want string }{
		"a plain word is quoted":        {"unknownFutureValue", `"unknownFutureValue"`},
		"an empty value is described":   {"", "an unrecognised value"},
		"digits are not echoed":         {"2065555554", "an unrecognised value"},
		"an overlong word is described": {long, "an unrecognised value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := quoteWord(tc.in); got != tc.want {
				t.Errorf("quoteWord(%q): want %q, got %q", tc.in, tc.want, got)
			}
		})
	}
}

// TestWriteKeyIsKeyed: the write keys in status.writeGuard are computed over full numbers, so
// they must depend on the install's key (without it, a reader could hash guessed numbers and
// compare), and fit the CRD's 16 characters.
func TestWriteKeyIsKeyed(t *testing.T) {
	a := Action{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}
	got := observed(mobile(kimMobile, StateReady))
	withKey := func(key string) Observed { o := got; o.StatusKey = []byte(key); return o }
	one, other := WriteKey(a, withKey("install-one")), WriteKey(a, withKey("install-two"))
	if one == other {
		t.Errorf("two installs' keys give the same write key %q: the hash is not keyed", one)
	}
	if again := WriteKey(a, withKey("install-one")); again != one {
		t.Errorf("one key gives two write keys, %q and %q: the guard would not recognise its own writes", one, again)
	}
	if len(one) != 16 {
		t.Errorf("write key %q is not 16 characters (status.writeGuard's MaxLength)", one)
	}
}
