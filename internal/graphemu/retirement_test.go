package graphemu_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestSMSSignInRetirement: before the instant SMS sign-in works as ever; from it on, Graph
// answers in the chosen shape, and phones stay manageable (create, disable) in both.
func TestSMSSignInRetirement(t *testing.T) {
	cases := map[string]struct {
		shape graphemu.RetirementShape
		// expected outputs, after the instant
		enableStatus  int
		readyReadsAs  string // the state of a mobile registered before the instant
		newMobileRead string // the state of a mobile added after it
	}{
		"enable refused":        {graphemu.RetiredEnableRefused, 400, "ready", "notConfigured"},
		"not allowed by policy": {graphemu.RetiredNotAllowedByPolicy, 400, "notAllowedByPolicy", "notAllowedByPolicy"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true, TokenTTL: 24 * time.Hour})
			at := en.clk.Now().Add(time.Hour)
			must(t, en.e.SetSMSSignInRetirement(graphemu.SMSSignInRetirement{At: at, Shape: tc.shape}))
			enable := func(user string) int {
				resp, _ := en.do(t, "POST", phonePath(user, "/", methodid.Mobile, "/enableSmsSignIn"), en.token, "")
				return resp.StatusCode
			}

			// Before: kim's mobile registers for SMS sign-in (policy includes kim).
			must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num1, SMSSignInState: "notEnabled"}))
			if got := enable(kimID); got != 204 {
				t.Fatalf("enable before the instant: %d, want 204", got)
			}

			en.clk.Advance(time.Hour) // the instant itself is retired
			if got := en.methods(t, kimID)["mobile"].SMSSignInState; got != tc.readyReadsAs {
				t.Errorf("a mobile enabled before reads %q, want %q", got, tc.readyReadsAs)
			}
			if got := enable(kimID); got != tc.enableStatus {
				t.Errorf("enable after the instant: %d, want %d", got, tc.enableStatus)
			}
			resp, body := en.do(t, "POST", phonePath(leeID), en.token, create("mobile", num2))
			if resp.StatusCode != 201 {
				t.Fatalf("creating a mobile after the instant: %d %s", resp.StatusCode, body)
			}
			if got := en.methods(t, leeID)["mobile"].SMSSignInState; got != tc.newMobileRead {
				t.Errorf("a mobile added after reads %q, want %q (nothing registers)", got, tc.newMobileRead)
			}
			if resp, body := en.do(t, "POST", phonePath(kimID, "/", methodid.Mobile, "/disableSmsSignIn"), en.token, ""); resp.StatusCode != 204 {
				t.Errorf("disable (the clean-up) after the instant: %d %s, want 204", resp.StatusCode, body)
			}

			// Ending the retirement restores SMS sign-in.
			must(t, en.e.SetSMSSignInRetirement(graphemu.SMSSignInRetirement{}))
			if got := enable(kimID); got != 204 {
				t.Errorf("enable once the retirement is lifted: %d, want 204", got)
			}
		})
	}
}

// TestSMSSignInRetirementAdminAPI: the retirement is read and replaced through the admin API,
// and an unknown shape is refused.
func TestSMSSignInRetirementAdminAPI(t *testing.T) {
	en := newEnv(t, graphemu.Options{EnableAdmin: true})
	en.admin(t, "PUT", "/smsSignInRetirement", `{"at":"2027-02-01T00:00:00Z","shape":"notAllowedByPolicy"}`, 204)
	var got graphemu.SMSSignInRetirement
	if err := json.Unmarshal(en.admin(t, "GET", "/smsSignInRetirement", "", 200), &got); err != nil {
		t.Fatal(err)
	}
	want := graphemu.SMSSignInRetirement{At: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), Shape: graphemu.RetiredNotAllowedByPolicy}
	if !got.At.Equal(want.At) || got.Shape != want.Shape {
		t.Errorf("GET = %+v, want %+v", got, want)
	}
	en.admin(t, "PUT", "/smsSignInRetirement", `{"at":"2027-02-01T00:00:00Z","shape":"sometimes"}`, 400)
	en.admin(t, "PUT", "/smsSignInRetirement", `{}`, 204)
	if got := en.e.CurrentSMSSignInRetirement(); !got.At.IsZero() {
		t.Errorf("{} left %+v, want no retirement", got)
	}
}
