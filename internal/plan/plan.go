package plan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"

	"github.com/phoneop/phoneop/internal/phone"
)

// errExtensionOnlyOnOffice explains an extension on a mobile or alternate.
var errExtensionOnlyOnOffice = errors.New("an extension is allowed only on office phones")

// Plan returns the ordered Graph writes that make got match want, or the
// reason it has to wait. It never looks at anything but its arguments.
//
// The order inside one plan is: the number first (Create or UpdateNumber),
// then SMS sign-in, because Graph enables SMS sign-in only on a number that
// is in place. Ordering across a user's objects is expressed as waits: an
// alternateMobile waits for the mobile (MobileRequired) and deleting a
// mobile waits for the alternateMobile (AlternateMobileExists).
//
// An SMS action that follows a number write in the same plan is planned
// against a state Graph is about to recompute (it registers a new mobile
// for SMS sign-in by itself when policy includes the user). It is listed so
// that plannedActions shows the whole intent; a reconciler that re-observes
// and re-plans after the number write gets the exact remainder.
//
// Plan is also the one place that decides whether a write may be repeated: a
// write already in got.WritesMade is not planned again (WriteNotReflected),
// and a number Graph refused recently is not written again
// (NumberWriteRefused).
func Plan(want Desired, got Observed, p Policy) Result {
	if WellKnownMethodID(want.PhoneType) == "" {
		return Result{Wait: invalidPhoneType(want.PhoneType)}
	}
	if want.Deleting {
		return withoutRepeats(planDelete(want.PhoneType, got), got)
	}
	r := withoutRepeats(planApply(want, got, p), got)
	r.Notice = smsSignInRetirementNotice(want, p)
	return r
}

// withoutRepeats ends the plan before its first write that was already made
// against this very observation, and waits on it: the writes before it still
// happen, the repeated one and those after it do not.
func withoutRepeats(r Result, got Observed) Result {
	for i, a := range r.Actions {
		if key := WriteKey(a, got); slices.Contains(got.WritesMade, key) {
			r.Actions, r.Wait = r.Actions[:i:i], writeNotReflected(a)
			return r
		}
	}
	return r
}

// WriteKey identifies a write and the observation of its phone it is made
// against, as a short keyed hash (HMAC-SHA256 with got.StatusKey, 64 bits in
// hex): it is recorded in status, which whoever reads the object sees, and it
// is computed over the desired and the observed full numbers. Unkeyed, it
// would let a reader test guesses of Graph's number offline; keyed, a guess
// cannot be hashed without the install's key.
func WriteKey(a Action, got Observed) string {
	observed := "absent"
	if m, ok := got.find(a.PhoneType); ok {
		observed = m.ID + "|" + m.Number + "|" + m.SMSSignInState
	}
	mac := hmac.New(sha256.New, got.StatusKey)
	_, _ = mac.Write([]byte(string(a.Kind) + "|" + string(a.PhoneType) + "|" + a.Number + "|" + observed))
	return hex.EncodeToString(mac.Sum(nil))[:writeKeyHexLen]
}

// writeKeyHexLen is WriteKey's length: 64 bits, enough to keep an object's few
// recorded writes apart, and within status.writeGuard's 16 characters.
const writeKeyHexLen = 16

// planDelete removes the method of type t if Graph has one. A mobile is
// deleted last: Graph refuses while an alternateMobile exists. A sibling
// alternate object that is still around will delete its method soon (wait
// for it); an alternate that no object manages needs a person.
func planDelete(t PhoneType, got Observed) Result {
	m, exists := got.find(t)
	if !exists {
		return Result{}
	}
	if t == Mobile {
		if got.SiblingAlternateExists {
			return Result{Wait: alternateMobileExists()}
		}
		if _, inGraph := got.find(AlternateMobile); inGraph {
			return Result{Wait: unmanagedAlternateExists()}
		}
	}
	return Result{Actions: []Action{{Kind: Delete, PhoneType: t, MethodID: m.ID, Number: m.Number}}}
}

// planApply creates or updates the number, then reconciles SMS sign-in.
func planApply(want Desired, got Observed, p Policy) Result {
	n, err := phone.Parse(phone.Normalize(want.Number))
	if err != nil {
		return Result{Wait: invalidNumber(err)}
	}
	if n.Extension != "" && want.PhoneType != Office {
		// Entra supports extensions on office phones only; admission checks
		// the spec, but a number from a Secret reaches only the planner.
		return Result{Wait: invalidNumber(errExtensionOnlyOnOffice)}
	}
	if m, exists := got.find(want.PhoneType); exists && phone.IsMasked(m.Number) {
		if want.CreateOnly && !want.CreatedThisPass {
			return Result{Kept: true} // kept whatever it holds: no need to read it
		}
		return Result{Wait: numberUnreadable(want.PhoneType)}
	}
	if want.PhoneType == AlternateMobile {
		// Graph only adds an alternate to a user with a mobile, and never
		// lets a mobile go while an alternate exists, so no mobile means
		// the alternate is not there either: wait instead of failing.
		if _, ok := got.find(Mobile); !ok {
			return Result{Wait: mobileRequired()}
		}
	}
	numberActions, current, numberChanging := planNumber(want.PhoneType, n.String(), got)
	smsActions, wait := planSMS(want, current, numberChanging, p)
	full := Result{Actions: append(numberActions, smsActions...), Wait: wait}
	if _, exists := got.find(want.PhoneType); exists && want.CreateOnly && !want.CreatedThisPass {
		return keepExisting(full)
	}
	if numberChanging && got.NumberWriteRefused {
		// The number is still not in place after Graph refused to write it: writing it again
		// would only be refused again.
		return Result{Wait: numberWriteRefused()}
	}
	return full
}

// keepExisting is CreateOnly on a phone Graph already has: nothing is
// written, and what Full would do is reported. A blocker of Full's plan
// concerns a change that is not going to be made, so it is dropped too.
func keepExisting(full Result) Result {
	return Result{Withheld: full.Actions, Kept: !full.UpToDate()}
}

// planNumber returns the write that puts number in place for type t (none
// if Graph already has it, compared after normalisation), the method as it
// will be after that write, and whether a write is planned.
func planNumber(t PhoneType, number string, got Observed) (actions []Action, after Method, changing bool) {
	m, exists := got.find(t)
	switch {
	case !exists:
		after = Method{ID: WellKnownMethodID(t), PhoneType: t, Number: number}
		return []Action{{Kind: Create, PhoneType: t, Number: number}}, after, true
	case !phone.Equal(m.Number, number):
		after = Method{ID: m.ID, PhoneType: t, Number: number}
		return []Action{{Kind: UpdateNumber, PhoneType: t, MethodID: m.ID, Number: number}}, after, true
	default:
		return nil, m, false
	}
}

// planSMS reconciles SMS sign-in of the method m. When the number is being
// created or changed (numberChanging), Graph's current smsSignInState
// describes the old number, so the planner lists the SMS action the spec
// implies (EnableSMS or DisableSMS) right after the number write. Graph may
// register a new mobile for SMS sign-in by itself; the reconciler re-observes
// after writing, and the next plan drops an action that became unnecessary.
func planSMS(want Desired, m Method, numberChanging bool, p Policy) ([]Action, *Blocker) {
	if want.SMSSignIn != SMSEnabled && want.SMSSignIn != SMSDisabled {
		// Omitted means unmanaged. Admission allows nothing else; any other
		// value is treated as unmanaged rather than guessed at.
		return nil, nil
	}
	if want.PhoneType != Mobile {
		return nil, smsSignInOnlyOnMobile(want.PhoneType)
	}
	if !p.SMSSignInSupported {
		return nil, smsSignInNotSupported()
	}
	if want.SMSSignIn == SMSEnabled && SMSSignInRetired(p.Now, p.SMSSignInRetiresAt) {
		// Retired: no enable call, whatever Graph reports (it may still say ready, refuse the
		// call, or read notAllowedByPolicy). Disabled still works, for the clean-up.
		return nil, smsSignInRetired()
	}
	if numberChanging {
		return []Action{smsAction(want.SMSSignIn, m.ID)}, nil
	}
	if want.SMSSignIn == SMSEnabled {
		return planEnable(m)
	}
	return planDisable(m)
}

// smsAction builds the enable or disable call for the mobile methodID.
func smsAction(s SMSSignIn, methodID string) Action {
	kind := EnableSMS
	if s == SMSDisabled {
		kind = DisableSMS
	}
	return Action{Kind: kind, PhoneType: Mobile, MethodID: methodID}
}

// planEnable maps Graph's state of an in-place mobile to what enabling needs:
// nothing when ready, a call when merely not enabled, an admin when policy or
// uniqueness stands in the way, and no guess for states it does not know.
func planEnable(m Method) ([]Action, *Blocker) {
	switch m.SMSSignInState {
	case StateReady:
		return nil, nil
	case StateNotEnabled, StateNotConfigured:
		return []Action{smsAction(SMSEnabled, m.ID)}, nil
	case StateNotAllowedByPolicy:
		return nil, smsNotAllowedByPolicy()
	case StatePhoneNumberNotUnique:
		return nil, phoneNumberNotUnique()
	default:
		// notSupported (contradictory on a mobile), unknownFutureValue,
		// empty, or a value added after this code was written.
		return nil, smsSignInStateUnknown(m.SMSSignInState)
	}
}

// planDisable maps Graph's state of an in-place mobile to what disabling
// needs: only ready means SMS sign-in is on; every other known state means
// it is already off; an unknown state gets no guess.
func planDisable(m Method) ([]Action, *Blocker) {
	switch m.SMSSignInState {
	case StateReady:
		return []Action{smsAction(SMSDisabled, m.ID)}, nil
	case StateNotEnabled, StateNotConfigured, StateNotAllowedByPolicy,
		StatePhoneNumberNotUnique, StateNotSupported:
		return nil, nil
	default:
		return nil, smsSignInStateUnknown(m.SMSSignInState)
	}
}
