package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSMSSignInRetirement is the decision of issue 23 as a table over (desired, observed, now,
// retirement date): before the date an object asking for SMS sign-in converges and carries a
// notice; from the date on no enable call is planned and the plan waits on the spec; clouds
// without a date, Disabled, unmanaged and other phone types never hear of it.
func TestSMSSignInRetirement(t *testing.T) {
	day := retirementDay
	cases := map[string]struct {
		reason string
		// plan inputs
		want      Desired
		got       Observed
		now       time.Time
		retiresAt time.Time
		// expected outputs
		wantActions []Action
		wantWait    *Blocker
		wantNotice  string // the notice's reason; "" for none
	}{
		"enabled and ready a day before: converged, with a notice": {
			reason:     "Enabling still works before the date; the person is told what is coming.",
			want:       Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:        observed(mobile(kimMobile, StateReady)),
			now:        day.Add(-24 * time.Hour),
			retiresAt:  day,
			wantNotice: ReasonSmsSignInRetiring,
		},
		"enabled and not enabled a second before: still enabled, with a notice": {
			reason:      "The last moment before the date still enables.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			now:         day.Add(-time.Second),
			retiresAt:   day,
			wantActions: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
			wantNotice:  ReasonSmsSignInRetiring,
		},
		"enabled at the very instant: retired": {
			reason:    "The date itself is retired.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:       observed(mobile(kimMobile, StateNotEnabled)),
			now:       day,
			retiresAt: day,
			wantWait:  blocker(NeedsSpecChange, ReasonSmsSignInRetired),
		},
		"enabled and still ready after: retired all the same": {
			reason:    "Graph may keep reading ready; the spec still asks for something that is gone.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:       observed(mobile(kimMobile, StateReady)),
			now:       day.Add(time.Hour),
			retiresAt: day,
			wantWait:  blocker(NeedsSpecChange, ReasonSmsSignInRetired),
		},
		"enabled and notAllowedByPolicy after: retired, not a policy problem": {
			reason:    "After the date notAllowedByPolicy is the retirement, not an admin's policy to fix.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:       observed(mobile(kimMobile, StateNotAllowedByPolicy)),
			now:       day.Add(time.Hour),
			retiresAt: day,
			wantWait:  blocker(NeedsSpecChange, ReasonSmsSignInRetired),
		},
		"a number change after the date: the number is written, SMS sign-in is not": {
			reason:      "The phone keeps serving MFA; only the enable call goes.",
			want:        Desired{PhoneType: Mobile, Number: kimNewMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateReady)),
			now:         day.Add(time.Hour),
			retiresAt:   day,
			wantActions: []Action{{Kind: UpdateNumber, PhoneType: Mobile, MethodID: mobileID, Number: kimNewMobile}},
			wantWait:    blocker(NeedsSpecChange, ReasonSmsSignInRetired),
		},
		"disabled after the date disables what Graph still has": {
			reason:      "Disabled keeps working for the clean-up.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:         observed(mobile(kimMobile, StateReady)),
			now:         day.Add(time.Hour),
			retiresAt:   day,
			wantActions: []Action{{Kind: DisableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"disabled before the date: no notice": {
			reason:    "Only an object that asks for SMS sign-in is warned.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSDisabled},
			got:       observed(mobile(kimMobile, StateNotEnabled)),
			now:       day.Add(-time.Hour),
			retiresAt: day,
		},
		"unmanaged before the date: no notice": {
			reason:    "phoneop does not manage SMS sign-in here, so it has nothing to say about it.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile},
			got:       observed(mobile(kimMobile, StateReady)),
			now:       day.Add(-time.Hour),
			retiresAt: day,
		},
		"unmanaged after the date: nothing changes": {
			reason:    "Hands off means hands off, retired or not.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile},
			got:       observed(mobile(kimMobile, StateReady)),
			now:       day.Add(time.Hour),
			retiresAt: day,
		},
		"a cloud without a date enables as ever": {
			reason:      "National clouds are not in this retirement.",
			want:        Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
			got:         observed(mobile(kimMobile, StateNotEnabled)),
			now:         day.Add(time.Hour),
			wantActions: []Action{{Kind: EnableSMS, PhoneType: Mobile, MethodID: mobileID}},
		},
		"enabled on an office phone: the type is the problem, not the date": {
			reason:    "SmsSignInOnlyOnMobile comes first; no notice for a setting that cannot apply.",
			want:      Desired{PhoneType: Office, Number: kimOffice, SMSSignIn: SMSEnabled},
			got:       observed(office(kimOffice)),
			now:       day.Add(-time.Hour),
			retiresAt: day,
			wantWait:  blocker(NeedsSpecChange, ReasonSmsSignInOnlyOnMobile),
		},
		"deleting before the date: no notice": {
			reason:    "An object on its way out needs no advice about its future.",
			want:      Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled, Deleting: true},
			got:       observed(),
			now:       day.Add(-time.Hour),
			retiresAt: day,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := Policy{SMSSignInSupported: true, SMSSignInRetiresAt: tc.retiresAt, Now: tc.now}
			got := Plan(tc.want, tc.got, p)
			if diff := cmp.Diff(tc.wantActions, got.Actions); diff != "" {
				t.Errorf("%s\nactions -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantWait, got.Wait, ignoreMessage); diff != "" {
				t.Errorf("%s\nwait -want +got:\n%s", tc.reason, diff)
			}
			gotNotice := ""
			if got.Notice != nil {
				gotNotice = got.Notice.Reason
			}
			if gotNotice != tc.wantNotice {
				t.Errorf("%s\nnotice = %q, want %q", tc.reason, gotNotice, tc.wantNotice)
			}
		})
	}
}

// TestSMSSignInRetirementNoticeNamesTheDateAndWhatToDo: the warning is one sentence that names
// the date and the fix, and holds no phone number.
func TestSMSSignInRetirementNoticeNamesTheDateAndWhatToDo(t *testing.T) {
	p := Policy{SMSSignInSupported: true, SMSSignInRetiresAt: retirementDay, Now: retirementDay.Add(-time.Hour)}
	n := Plan(Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled}, observed(mobile(kimMobile, StateReady)), p).Notice
	if n == nil {
		t.Fatal("no notice before the date")
	}
	for _, want := range []string{"2027-02-01", "Disabled", "passkey"} {
		if !strings.Contains(n.Message, want) {
			t.Errorf("notice %q does not mention %q", n.Message, want)
		}
	}
	if !strings.HasSuffix(n.Message, ".") || strings.Count(n.Message, ". ") > 0 || strings.Contains(n.Message, "555") {
		t.Errorf("notice is not one sentence free of the number: %q", n.Message)
	}
}

func TestFormatRetirement(t *testing.T) {
	cases := map[string]struct {
		at   time.Time
		want string
	}{
		"midnight UTC is a date":           {retirementDay, "2027-02-01"},
		"another zone is written in UTC":   {retirementDay.In(time.FixedZone("CET", 3600)), "2027-02-01"},
		"an instant within a day is whole": {retirementDay.Add(90 * time.Minute), "2027-02-01T01:30:00Z"},
	}
	for name, tc := range cases {
		if got := FormatRetirement(tc.at); got != tc.want {
			t.Errorf("%s: FormatRetirement = %q, want %q", name, got, tc.want)
		}
	}
}
