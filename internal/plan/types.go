// Package plan decides what to do to one user's phone authentication method:
// it diffs the desired spec of one PhoneAuthMethod against the phone methods
// Graph reported for that user and returns ordered actions, or a reason to
// wait. It is pure on purpose (no Kubernetes, no HTTP imports) so that every
// decision the reconciler makes can be table-tested without a cluster or
// Graph, and so that ObserveOnly can report exactly what Full would do.
package plan

import (
	"strings"
	"time"

	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/phone"
)

// PhoneType is Graph's phoneType of a phone authentication method.
type PhoneType string

// The phone types Graph knows. A user has at most one method of each.
const (
	// Mobile is the user's primary mobile; the only type that can do SMS sign-in.
	Mobile PhoneType = "mobile"
	// AlternateMobile can only exist while the user has a Mobile.
	AlternateMobile PhoneType = "alternateMobile"
	// Office is a voice-only phone.
	Office PhoneType = "office"
)

// WellKnownMethodID returns Graph's fixed method id for t, or "" for an
// unknown type. The ids are fixed per type, so an action on a method that a
// preceding Create is about to make can still name its id.
func WellKnownMethodID(t PhoneType) string {
	return methodid.ForPhoneType(string(t))
}

// SMSSignIn is the desired SMS sign-in setting of a mobile.
type SMSSignIn string

const (
	// SMSUnmanaged (spec.smsSignIn omitted) means the operator never enables
	// or disables SMS sign-in, whatever Graph reports.
	SMSUnmanaged SMSSignIn = ""
	// SMSEnabled asks for the mobile to be usable for SMS sign-in.
	SMSEnabled SMSSignIn = "Enabled"
	// SMSDisabled asks for SMS sign-in to be off for the mobile.
	SMSDisabled SMSSignIn = "Disabled"
)

// Graph's smsSignInState values. Graph's enum is evolvable, so Method keeps
// the state as a plain string and the planner treats anything not listed
// here as unknown.
const (
	StateNotSupported         = "notSupported"
	StateNotAllowedByPolicy   = "notAllowedByPolicy"
	StateNotEnabled           = "notEnabled"
	StatePhoneNumberNotUnique = "phoneNumberNotUnique"
	StateReady                = "ready"
	StateNotConfigured        = "notConfigured"
	StateUnknownFutureValue   = "unknownFutureValue"
)

// Desired is what one PhoneAuthMethod object asks for.
type Desired struct {
	// PhoneType is the slot the object manages.
	PhoneType PhoneType
	// Number is the desired number, in Graph format; extra spacing is
	// forgiven (it may come from a Secret that admission cannot validate).
	Number string
	// SMSSignIn is the desired SMS sign-in setting; SMSUnmanaged means hands off.
	SMSSignIn SMSSignIn
	// Deleting is true when the object is being deleted with
	// deletionPolicy Delete (Orphan never reaches the planner).
	Deleting bool
	// CreateOnly prefills: a missing phone is created (with SMS sign-in as
	// desired), and an existing one is kept whatever it holds; the changes
	// Full would make are returned as Result.Withheld.
	CreateOnly bool
	// CreatedThisPass is true when the reconciler created the method
	// earlier in this pass, so CreateOnly may still set its SMS sign-in.
	CreatedThisPass bool
}

// Method is one phone method as Graph listed it.
type Method struct {
	ID             string
	PhoneType      PhoneType
	Number         string
	SMSSignInState string
}

// Observed is what the reconciler read before planning.
type Observed struct {
	// Methods are all of the user's phone methods as listed by Graph (0–3).
	Methods []Method
	// SiblingAlternateExists is true when a PhoneAuthMethod object for the
	// same user's alternateMobile still exists in the cluster. Deleting a
	// mobile waits for it, so that the alternate object is deleted first
	// even before its Graph method has gone.
	SiblingAlternateExists bool
	// NumberWriteRefused is true when Graph answered a number write (a
	// create or an update) of the desired type with a conflict recently. A
	// 409 phoneNumberNotUnique usually saves the write anyway; if the number
	// is still not in place, it did not, and writing again would only be
	// refused again until an admin frees the number.
	NumberWriteRefused bool
	// WritesMade are the writes Graph accepted from this object for its current spec, as
	// WriteKey gives them (status.writeGuard). A planned write whose key is among them was
	// already made against this very observation: Graph took it and still shows the state
	// before it, so making it again would loop.
	WritesMade []string
	// StatusKey keys WriteKey: the install's key (internal/statuskey), so that the hashes in
	// status cannot be matched against guessed numbers by whoever reads the object.
	StatusKey []byte
}

// find returns the observed method of type t, if any. Graph allows one
// method per type, so the first match is the only one.
func (o Observed) find(t PhoneType) (Method, bool) {
	for _, m := range o.Methods {
		if m.PhoneType == t {
			return m, true
		}
	}
	return Method{}, false
}

// Policy carries what the tenant's environment allows.
type Policy struct {
	// SMSSignInSupported is false in clouds without enable/disableSmsSignIn
	// (China, 21Vianet).
	SMSSignInSupported bool
	// SMSSignInRetiresAt is when Microsoft retires SMS sign-in in the
	// tenant's cloud (the public cloud: 2027-02-01, even with a customer
	// telephony provider); zero means no retirement is known there.
	SMSSignInRetiresAt time.Time
	// Now is when the plan is made, compared with SMSSignInRetiresAt. It is
	// an input rather than a clock so that the plan stays a pure function.
	Now time.Time
}

// ActionKind names one Graph write.
type ActionKind string

const (
	// Create POSTs a new method of PhoneType with Number.
	Create ActionKind = "Create"
	// UpdateNumber PATCHes the number of MethodID to Number.
	UpdateNumber ActionKind = "UpdateNumber"
	// Delete DELETEs MethodID; Number is the observed number, for the record.
	Delete ActionKind = "Delete"
	// EnableSMS calls enableSmsSignIn on the mobile MethodID.
	EnableSMS ActionKind = "EnableSMS"
	// DisableSMS calls disableSmsSignIn on the mobile MethodID.
	DisableSMS ActionKind = "DisableSMS"
)

// ActionKinds lists every kind, for tests that check each is handled.
var ActionKinds = []ActionKind{Create, UpdateNumber, Delete, EnableSMS, DisableSMS}

// Action is one Graph write, in the order it must be applied.
type Action struct {
	Kind      ActionKind
	PhoneType PhoneType
	// MethodID is the Graph method id; empty for Create (Graph assigns it).
	MethodID string
	// Number is the canonical number to write (Create, UpdateNumber) or the
	// observed one (Delete); empty for SMS actions. Never log it unmasked.
	Number string
}

// String describes the action for status.plannedActions and events, with
// the number masked: "Create mobile +1 *******554", "EnableSMS mobile".
func (a Action) String() string {
	parts := []string{string(a.Kind), string(a.PhoneType)}
	if a.Number != "" {
		parts = append(parts, phone.Mask(a.Number))
	}
	return strings.Join(parts, " ")
}

// Blocker is why the object cannot converge now: a Reason constant for the
// condition, a one-sentence Message saying what happens next or what an
// admin must do, and the Kind of wait, which decides how severe it is.
// Messages never contain a phone number.
type Blocker struct {
	Kind    BlockerKind
	Reason  string
	Message string
}

// BlockerKind is who or what a blocked plan waits for. The planner decides
// it together with the reason, so that the reconciler never has to guess
// from a reason string whether a person must act.
type BlockerKind string

const (
	// WaitsForSibling: another PhoneAuthMethod of the same user must
	// converge or go first. Progressing: the sibling's change wakes the
	// object.
	WaitsForSibling BlockerKind = "WaitsForSibling"
	// NeedsEntraAdmin: only a change in Entra helps (the SMS policy,
	// another user's number, a method no object manages). Stalled, and
	// retried slowly, because nothing in the cluster announces the fix.
	NeedsEntraAdmin BlockerKind = "NeedsEntraAdmin"
	// NeedsSpecChange: only a change to the object (or the Secret it
	// names) helps. Stalled; the change itself wakes the object.
	NeedsSpecChange BlockerKind = "NeedsSpecChange"
	// UnknownGraphState: Graph reported a state the planner does not act
	// on. Progressing: no person is asked to act, and Graph is re-read
	// slowly in case it settles.
	UnknownGraphState BlockerKind = "UnknownGraphState"
)

// BlockerKinds lists every kind, for tests that check each is handled.
var BlockerKinds = []BlockerKind{WaitsForSibling, NeedsEntraAdmin, NeedsSpecChange, UnknownGraphState}

// Notice is something a person should hear about that does not stop the
// object converging (a date that is coming): a Reason constant and a
// one-sentence Message saying what to do. Messages never contain a phone
// number.
type Notice struct {
	Reason  string
	Message string
}

// Result is the plan: Actions to apply in order, then, if Wait is set, the
// reason the object still will not be up to date after applying them.
// Actions listed before a Wait are always safe to apply. Withheld are the
// actions Full would make that CreateOnly keeps from an existing phone:
// never applied, only reported.
type Result struct {
	Actions  []Action
	Wait     *Blocker
	Withheld []Action
	// Kept is true when CreateOnly left an existing phone that Full would
	// change (or that Graph shows masked) as it is.
	Kept bool
	// Notice, when set, warns about the spec without blocking it (SMS sign-in
	// that retires soon); nil when there is nothing to warn about.
	Notice *Notice
}

// UpToDate reports whether Graph already matches the spec: nothing to do
// and nothing to wait for.
func (r Result) UpToDate() bool {
	return len(r.Actions) == 0 && r.Wait == nil
}

// Strings returns the masked descriptions of the actions (those to apply,
// then those withheld), ready for status.plannedActions.
func (r Result) Strings() []string {
	out := make([]string, 0, len(r.Actions)+len(r.Withheld))
	for _, a := range append(r.Actions, r.Withheld...) {
		out = append(out, a.String())
	}
	return out
}
