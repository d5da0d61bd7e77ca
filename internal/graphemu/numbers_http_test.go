package graphemu_test

import (
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestAcceptedNumberForms: Graph accepts E.164 without the space and
// stores it in the documented form, split after the country code; an
// extension is for office phones only.
func TestAcceptedNumberForms(t *testing.T) {
	cases := map[string]struct {
		phoneType, sent string
		// expected outputs
		status int
		code   string
		stored string // "" when nothing is saved
	}{
		"documented form kept":             {"mobile", "+49 1701234567", 201, "", "+49 1701234567"},
		"E.164, two-digit country code":    {"mobile", "+491701234567", 201, "", "+49 1701234567"},
		"E.164, NANP":                      {"mobile", "+12065550100", 201, "", "+1 2065550100"},
		"E.164, zone 7":                    {"mobile", "+74951234567", 201, "", "+7 4951234567"},
		"E.164, three-digit country code":  {"mobile", "+3545551234", 201, "", "+354 5551234"},
		"E.164, Ireland":                   {"mobile", "+353871234567", 201, "", "+353 871234567"},
		"E.164 office with extension":      {"office", "+14255550100x12", 201, "", "+1 4255550100x12"},
		"documented office with extension": {"office", "+1 4255550100x12", 201, "", "+1 4255550100x12"},
		"extension on mobile":              {"mobile", "+1 4255550100x12", 400, "badRequest", ""},
		"extension on mobile, E.164":       {"mobile", "+14255550100x12", 400, "badRequest", ""},
		"E.164 too long":                   {"mobile", "+4917012345678901", 400, "badRequest", ""},
		"E.164 too short":                  {"mobile", "+4912", 400, "badRequest", ""},
		"country code 0":                   {"mobile", "+0123456789", 400, "badRequest", ""},
		"no plus":                          {"mobile", "491701234567", 400, "badRequest", ""},
		"dashes are still refused":         {"mobile", "+49-170-1234567", 400, "badRequest", ""},
		"two spaces are still refused":     {"mobile", "+49 170 1234567", 400, "badRequest", ""},
		"empty extension":                  {"office", "+14255550100x", 400, "badRequest", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true})
			resp, body := en.do(t, "POST", phonePath(kimID), en.token, create(tc.phoneType, tc.sent))
			if resp.StatusCode != tc.status || (tc.code != "" && errCode(body) != tc.code) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if got := en.methods(t, kimID)[tc.phoneType].PhoneNumber; got != tc.stored {
				t.Fatalf("stored %q, want %q", got, tc.stored)
			}
		})
	}
}

// TestPatchNumberForms: PATCH normalises like POST, accepts phoneType
// alongside phoneNumber (every real caller sends both) and refuses a
// phoneType that differs, and an extension on an alternateMobile.
func TestPatchNumberForms(t *testing.T) {
	cases := []ruleCase{
		{name: "E.164 without the space, with the same phoneType", setup: set("mobile", num1, ""),
			steps: []step{{"PATCH", mobilePath, `{"phoneType":"mobile","phoneNumber":"+447700900123"}`, 204, ""}},
			want:  map[string]string{"mobile": num3 + "|ready"}},
		{name: "the same number in another form is no change", setup: set("mobile", num1, "notEnabled"),
			steps: []step{{"PATCH", mobilePath, `{"phoneNumber":"+15555550101"}`, 204, ""}},
			want:  map[string]string{"mobile": num1 + "|notEnabled"}},
		{name: "a different phoneType is refused", setup: set("mobile", num1, ""),
			steps: []step{{"PATCH", mobilePath, `{"phoneType":"office","phoneNumber":"` + num2 + `"}`, 400, "badRequest"}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "extension on alternateMobile", setup: setAll(set("mobile", num1, ""), set("alternateMobile", num2, "")),
			steps: []step{{"PATCH", altPath, `{"phoneType":"alternateMobile","phoneNumber":"` + num2 + `x9"}`, 400, "badRequest"},
				{"POST", phonePath(leeID), create("mobile", num3), 201, ""},
				{"POST", phonePath(leeID), create("alternateMobile", num2+"x9"), 400, "badRequest"}},
			want: map[string]string{"mobile": num1 + "|ready", "alternateMobile": num2 + "|notSupported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runRuleCase(t, tc) })
	}
}
