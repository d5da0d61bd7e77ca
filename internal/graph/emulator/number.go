package emulator

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
