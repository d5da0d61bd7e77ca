package graphemu

import "strings"

// ValidPhoneNumber reports whether s is in the only format Graph accepts on
// create/update: "+{country code} {number}" with an optional "x{extension}",
// e.g. "+1 5555551234" or "+1 5555551234x123". The country code is 1–3
// digits not starting with 0; the number 4–14 digits, at most 15 together
// (E.164); the extension 1–10 digits. Anything else (no space, extra
// spaces, dashes, parentheses, letters) is rejected.
func ValidPhoneNumber(s string) bool {
	if !strings.HasPrefix(s, "+") {
		return false
	}
	cc, rest, ok := strings.Cut(s[1:], " ")
	if !ok || len(cc) < 1 || len(cc) > 3 || cc[0] == '0' || !allDigits(cc) {
		return false
	}
	num, ext, hasExt := strings.Cut(rest, "x")
	if len(num) < 4 || len(num) > 14 || len(cc)+len(num) > 15 || !allDigits(num) {
		return false
	}
	return !hasExt || (len(ext) >= 1 && len(ext) <= 10 && allDigits(ext))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberKey is the identity of a number for SMS sign-in uniqueness: digits
// of country code and number, extension dropped.
func numberKey(s string) string {
	num, _, _ := strings.Cut(s, "x")
	return strings.ReplaceAll(num, " ", "")
}

// graphNumber returns the form Graph stores for a number it accepts on a
// write: the documented "+{cc} {number}[x{ext}]" as sent, or E.164 without
// the space ("+491701234567", accepted in production: runbooks send it as
// is) split after its country code ("+49 1701234567").
func graphNumber(s string) (string, bool) {
	if ValidPhoneNumber(s) {
		return s, true
	}
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	digits, ext, hasExt := strings.Cut(s[1:], "x")
	if !allDigits(digits) {
		return "", false
	}
	cc := countryCode(digits)
	if cc == "" || len(digits) <= len(cc) {
		return "", false
	}
	out := "+" + cc + " " + digits[len(cc):]
	if hasExt {
		out += "x" + ext
	}
	return out, ValidPhoneNumber(out)
}

// twoDigitCodes are the ITU country calling codes of two digits. Calling
// codes are prefix-free, so with the one-digit zones 1 (NANP) and 7 they
// tell where any E.164 number's country code ends: every other code has
// three digits.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true,
	"39": true, "40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true,
	"48": true, "49": true, "51": true, "52": true, "53": true, "54": true, "55": true, "56": true,
	"57": true, "58": true, "60": true, "61": true, "62": true, "63": true, "64": true, "65": true,
	"66": true, "81": true, "82": true, "84": true, "86": true, "90": true, "91": true, "92": true,
	"93": true, "94": true, "95": true, "98": true,
}

// countryCode is the calling code at the start of digits ("" if too short).
func countryCode(digits string) string {
	switch {
	case digits == "":
		return ""
	case digits[0] == '1' || digits[0] == '7':
		return digits[:1]
	case len(digits) >= 2 && twoDigitCodes[digits[:2]]:
		return digits[:2]
	case len(digits) >= 3:
		return digits[:3]
	}
	return ""
}

// splitNumber parses "+{cc} {national}[x{ext}]" (any separators in the
// national part are dropped) or E.164; ok is false for anything else.
func splitNumber(s string) (cc, national, ext string, ok bool) {
	if !strings.HasPrefix(s, "+") {
		return "", "", "", false
	}
	num, ext, _ := strings.Cut(s[1:], "x")
	if c, rest, spaced := strings.Cut(num, " "); spaced && allDigits(c) && c != "" {
		return c, onlyDigits(rest), ext, true
	}
	cc = countryCode(num)
	if cc == "" || !allDigits(num) {
		return "", "", "", false
	}
	return cc, num[len(cc):], ext, true
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// trunkZeroCodes are calling codes whose national format dials a trunk
// prefix 0 that international format drops (Italy, 39, keeps its 0 and
// is not here). Used by NumberFormatTrunk only.
var trunkZeroCodes = map[string]bool{
	"27": true, "31": true, "32": true, "33": true, "41": true, "43": true, "44": true, "46": true,
	"49": true, "55": true, "61": true, "64": true, "81": true, "82": true, "86": true, "90": true,
	"91": true, "353": true, "358": true, "972": true,
}

// formatNumber is the form a number written through Graph is stored in
// under f, or "" when f keeps the documented form.
func formatNumber(number string, f NumberFormat) string {
	cc, nat, ext, ok := splitNumber(number)
	if !ok {
		return ""
	}
	if ext != "" {
		ext = "x" + ext
	}
	var out string
	switch f {
	case NumberFormatNoSpace:
		out = "+" + cc + nat + ext
	case NumberFormatTrunk:
		if !trunkZeroCodes[cc] {
			return ""
		}
		if t, had := strings.CutPrefix(nat, "0"); had {
			out = "+" + cc + " " + t + ext
		} else {
			out = "+" + cc + " 0" + nat + ext
		}
	case NumberFormatSpaced:
		out = "+" + cc + " " + groupDigits(nat) + ext
	default:
		return ""
	}
	if out == number {
		return ""
	}
	return out
}

// groupDigits writes a national number the way people do: "170 123-4567",
// "12-3456", a short number as is.
func groupDigits(nat string) string {
	n := len(nat)
	switch {
	case n > 7:
		return nat[:3] + " " + nat[3:n-4] + "-" + nat[n-4:]
	case n > 4:
		return nat[:n-4] + "-" + nat[n-4:]
	}
	return nat
}

// maskNumber is a number as a caller without full read rights sees it:
// country code kept, every national digit but the last two starred
// ("+1 ********34"), an extension starred whole.
func maskNumber(number string) string {
	cc, nat, ext, ok := splitNumber(number)
	if !ok {
		return strings.Repeat("*", len(number))
	}
	keep := min(2, len(nat))
	out := "+" + cc + " " + strings.Repeat("*", len(nat)-keep) + nat[len(nat)-keep:]
	if ext != "" {
		out += "x" + strings.Repeat("*", len(ext))
	}
	return out
}
