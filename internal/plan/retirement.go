package plan

import "time"

// PublicCloudSMSSignInRetirement is the day Microsoft announced for the retirement of SMS
// sign-in (SMS as a primary, passwordless method) in the public cloud: 2027-02-01, for
// everyone but Global Administrators and external users (2027-07-01), and even for tenants
// that bring their own telephony provider (Entra docs: concept-sms-voice-retirement and the
// phone-providers FAQ). National clouds are not in this retirement. The date is Microsoft's
// and may move, so the manager takes it from a flag that defaults to this value.
var PublicCloudSMSSignInRetirement = time.Date(2027, time.February, 1, 0, 0, 0, 0, time.UTC)

// SMSSignInRetired reports whether SMS sign-in is retired at now, given the instant it retires
// (zero: never).
func SMSSignInRetired(now, retiresAt time.Time) bool {
	return !retiresAt.IsZero() && !now.Before(retiresAt)
}

// smsSignInRetirementNotice warns an object that asks for SMS sign-in on a mobile in a cloud
// where it will retire: until the date, enabling still works and the object converges, but a
// person should move the user to another method before phoneop stops enabling it.
func smsSignInRetirementNotice(want Desired, p Policy) *Notice {
	if want.SMSSignIn != SMSEnabled || want.PhoneType != Mobile || !p.SMSSignInSupported ||
		p.SMSSignInRetiresAt.IsZero() || SMSSignInRetired(p.Now, p.SMSSignInRetiresAt) {
		return nil
	}
	return &Notice{Reason: ReasonSmsSignInRetiring, Message: "Microsoft retires SMS sign-in in this tenant's cloud on " + FormatRetirement(p.SMSSignInRetiresAt) +
		", even with a customer telephony provider, and from then phoneop makes no enable call; move the user to a passkey or the Authenticator app and set smsSignIn to Disabled or remove it."}
}

// FormatRetirement writes a retirement instant as a date when it is midnight UTC (the way
// Microsoft announces it), else in full.
func FormatRetirement(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}
