package plan

import "fmt"

// Reasons a plan waits. They double as condition and event reasons, so their
// values are CamelCase and stable.
const (
	// ReasonMobileRequired: an alternateMobile is wanted but the user has no
	// mobile in Graph, which Graph requires first. Waits for the mobile.
	ReasonMobileRequired = "MobileRequired"
	// ReasonAlternateMobileExists: a mobile is being deleted while the user
	// still has an alternateMobile (in Graph or as an object), which Graph
	// forbids. Waits for the alternate to be deleted.
	ReasonAlternateMobileExists = "AlternateMobileExists"
	// ReasonSmsNotAllowedByPolicy: SMS sign-in is wanted but the tenant's
	// authentication-methods policy does not enable it for the user. An
	// admin must change the policy; retry slowly.
	ReasonSmsNotAllowedByPolicy = "SmsNotAllowedByPolicy"
	// ReasonPhoneNumberNotUnique: SMS sign-in is wanted but another user
	// already holds the number for SMS sign-in. An admin must resolve it.
	ReasonPhoneNumberNotUnique = "PhoneNumberNotUnique"
	// ReasonSmsSignInNotSupported: SMS sign-in is managed but the tenant's
	// cloud cannot enable or disable it. Terminal until the spec changes.
	ReasonSmsSignInNotSupported = "SmsSignInNotSupported"
	// ReasonSmsSignInOnlyOnMobile: SMS sign-in is managed on a phone type
	// other than mobile. Terminal until the spec changes (admission should
	// already reject it; the planner does not trust that).
	ReasonSmsSignInOnlyOnMobile = "SmsSignInOnlyOnMobile"
	// ReasonSmsSignInStateUnknown: Graph reports an smsSignInState the
	// planner does not know (unknownFutureValue, or a new value), so it
	// makes no SMS change rather than guess. Retry slowly.
	ReasonSmsSignInStateUnknown = "SmsSignInStateUnknown"
	// ReasonInvalidNumber: the desired number is not in Graph format.
	// Terminal until the spec or the referenced Secret changes.
	ReasonInvalidNumber = "InvalidNumber"
	// ReasonInvalidPhoneType: the desired phoneType is not one Graph knows.
	// Terminal until the spec changes.
	ReasonInvalidPhoneType = "InvalidPhoneType"
	// ReasonNumberUnreadable: Graph shows the existing method's number
	// masked or empty (the caller lacks full read rights), so it can be
	// neither compared nor safely written over. An admin must grant the
	// permission.
	ReasonNumberUnreadable = "NumberUnreadable"
	// ReasonSmsSignInRetired: SMS sign-in is wanted but Microsoft has retired
	// it in the tenant's cloud, so no enable call is made whatever Graph
	// answers. Terminal until the spec sets Disabled or drops the field.
	ReasonSmsSignInRetired = "SmsSignInRetired"
	// ReasonSmsSignInRetiring (a Notice, not a wait): SMS sign-in is wanted
	// and works, but Microsoft retires it in the tenant's cloud on a known
	// date.
	ReasonSmsSignInRetiring = "SmsSignInRetiring"
	// ReasonWriteNotReflected: Graph accepted a write of this object against
	// this very observation before, and keeps reporting the state before it.
	// Stalled until the spec or Graph's value changes.
	ReasonWriteNotReflected = "WriteNotReflected"
)

// The constructors below keep every message one sentence that says what
// happens next or what an admin must do, and free of phone numbers.

func mobileRequired() *Blocker {
	return &Blocker{WaitsForSibling, ReasonMobileRequired,
		"The user has no mobile phone method and Graph accepts an alternateMobile only after a mobile, so this waits until the user's mobile exists."}
}

func alternateMobileExists() *Blocker {
	return &Blocker{WaitsForSibling, ReasonAlternateMobileExists,
		"Graph does not delete a mobile while the user has an alternateMobile, so this waits until the user's alternateMobile object and method are deleted."}
}

// unmanagedAlternateExists: the alternate in Graph that blocks deleting the
// mobile has no object that will delete it, so only a person can.
func unmanagedAlternateExists() *Blocker {
	return &Blocker{NeedsEntraAdmin, ReasonAlternateMobileExists,
		"Graph cannot delete the mobile while the user has an alternateMobile that no PhoneAuthMethod manages; remove it in Entra, or set deletionPolicy Orphan."}
}

func numberUnreadable(t PhoneType) *Blocker {
	return &Blocker{NeedsEntraAdmin, ReasonNumberUnreadable,
		fmt.Sprintf("Graph shows the %s phone's number masked or empty, so phoneop cannot compare it and writes nothing; grant the app UserAuthenticationMethod.ReadWrite.All (or UserAuthMethod-Phone.ReadWrite.All) with admin consent, since a caller with only an admin role sees masked numbers.", t)}
}

// numberWriteRefused: Graph answered the create or update with 409 and did
// not save it; the holder of the number may be a (soft-)deleted user nobody
// can list.
func numberWriteRefused() *Blocker {
	return &Blocker{NeedsEntraAdmin, ReasonPhoneNumberNotUnique,
		"Graph refused to write the number because another user, possibly a deleted one, holds it; an admin must free the number in Entra or the spec must name another number."}
}

// writeNotReflected: writing again would repeat a write Graph accepted and did
// not show, every pass and every resync.
// The write's key is in status.writeGuard; the message stays free of it.
func writeNotReflected(a Action) *Blocker {
	return &Blocker{NeedsSpecChange, ReasonWriteNotReflected,
		fmt.Sprintf("Graph accepted phoneop's %s of the %s phone but keeps reporting a value that differs from the spec, so phoneop stops writing until the spec or Graph's value changes.", a.Kind, a.PhoneType)}
}

func smsNotAllowedByPolicy() *Blocker {
	return &Blocker{NeedsEntraAdmin, ReasonSmsNotAllowedByPolicy,
		"The tenant's authentication methods policy does not enable this user for SMS sign-in; an admin must include the user in the SMS policy, or set smsSignIn to Disabled or omit it."}
}

func phoneNumberNotUnique() *Blocker {
	return &Blocker{NeedsEntraAdmin, ReasonPhoneNumberNotUnique,
		"Another user already uses this number for SMS sign-in; an admin must remove it from that user or choose a different number before SMS sign-in can be enabled."}
}

func smsSignInNotSupported() *Blocker {
	return &Blocker{NeedsSpecChange, ReasonSmsSignInNotSupported,
		"This tenant's cloud cannot enable or disable SMS sign-in, so nothing is changed until smsSignIn is removed from the spec."}
}

// smsSignInRetired: the date has passed; only the spec can end the wait (the resync keeps
// reading Graph, slowly, so nothing loops whatever Graph answers). The message names no date:
// the condition's lastTransitionTime and the earlier SmsSignInRetiring notice do.
func smsSignInRetired() *Blocker {
	return &Blocker{NeedsSpecChange, ReasonSmsSignInRetired,
		"SMS sign-in is retired in this tenant's cloud, so phoneop makes no enable call; set smsSignIn to Disabled or remove the field (the phone itself stays registered)."}
}

func smsSignInOnlyOnMobile(t PhoneType) *Blocker {
	return &Blocker{NeedsSpecChange, ReasonSmsSignInOnlyOnMobile,
		fmt.Sprintf("Only a mobile can be used for SMS sign-in, so nothing is changed for this %s phone until smsSignIn is removed from the spec.", t)}
}

func smsSignInStateUnknown(state string) *Blocker {
	return &Blocker{UnknownGraphState, ReasonSmsSignInStateUnknown,
		fmt.Sprintf("Graph reports SMS sign-in state %s, which the operator does not act on, so SMS sign-in is left unchanged until Graph reports a known state.", quoteWord(state))}
}

func invalidNumber(err error) *Blocker {
	return &Blocker{NeedsSpecChange, ReasonInvalidNumber,
		fmt.Sprintf("The desired phone number is not in Graph format (%v), so nothing is changed until the number in the spec or its Secret is fixed.", err)}
}

func invalidPhoneType(t PhoneType) *Blocker {
	return &Blocker{NeedsSpecChange, ReasonInvalidPhoneType,
		fmt.Sprintf("Phone type %s is not mobile, alternateMobile or office, so nothing is changed until the spec is fixed.", quoteWord(string(t)))}
}

// quoteWord quotes s for a message if it is a plain word of ASCII letters,
// and otherwise describes it without echoing it: the value comes from a spec
// or from Graph and must not smuggle a phone number into a condition.
func quoteWord(s string) string {
	const maxWord = 64
	if s == "" || len(s) > maxWord {
		return "an unrecognised value"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return "an unrecognised value"
		}
	}
	return fmt.Sprintf("%q", s)
}
