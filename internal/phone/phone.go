// Package phone parses, compares and masks phone numbers in the format
// Microsoft Graph uses for phone authentication methods:
//
//	+{country code} {national number}[x{extension}]
//
// It is pure (no I/O) so that the planner, the status writer and the Graph
// emulator can share one definition of "the same number" and one way of
// keeping numbers out of logs, events and status.
package phone

import (
	"errors"
	"strings"
)

// Limits of the Graph format. They are the documented bounds, kept as named
// constants so that error messages and checks cannot drift apart.
const (
	minCountryCode = 1
	maxCountryCode = 3
	minNational    = 4
	maxNational    = 15
	minExtension   = 1
	maxExtension   = 10

	// visibleDigits is how many trailing national digits Mask keeps: enough
	// for a person to recognise their own number, too few to dial it.
	visibleDigits = 3
)

// ErrInvalid is wrapped by every Parse error, so callers can map any parse
// failure to one reason (for example InvalidNumber) with errors.Is.
var ErrInvalid = errors.New("invalid phone number")

// Number is a phone number split into the parts Graph distinguishes.
// All fields hold ASCII digits only; Extension is empty when there is none.
type Number struct {
	CountryCode string
	National    string
	Extension   string
}

// String returns the canonical Graph form "+CC NNNN[xEXT]" with a lower-case
// x, which is what we send to Graph and what Normalize compares.
func (n Number) String() string {
	var b strings.Builder
	b.WriteString("+")
	b.WriteString(n.CountryCode)
	b.WriteString(" ")
	b.WriteString(n.National)
	if n.Extension != "" {
		b.WriteString("x")
		b.WriteString(n.Extension)
	}
	return b.String()
}

// masked returns the number with all but the last visibleDigits national
// digits replaced by '*', and every extension digit replaced by '*'.
// The extension is masked rather than dropped so that a status reader can
// still see that the stored number carries one.
func (n Number) masked() string {
	keep := len(n.National) - visibleDigits
	m := Number{
		CountryCode: n.CountryCode,
		National:    strings.Repeat("*", keep) + n.National[keep:],
		Extension:   strings.Repeat("*", len(n.Extension)),
	}
	return m.String()
}

// invalid builds a parse error. The detail never contains the input: parse
// errors end up in conditions and events, where a number must not appear.
func invalid(detail string) error {
	return &parseError{detail: detail}
}

type parseError struct{ detail string }

func (e *parseError) Error() string { return ErrInvalid.Error() + ": " + e.detail }
func (e *parseError) Unwrap() error { return ErrInvalid }

// Parse accepts exactly the Graph format: '+', a country code of 1–3 digits
// not starting with 0, one space, 4–15 digits, and optionally 'x' or 'X'
// followed by 1–10 extension digits. It is strict on purpose: Graph rejects
// anything else on create and update. Use Normalize first to accept the
// looser spacing Graph itself may return.
func Parse(s string) (Number, error) {
	if s == "" {
		return Number{}, invalid("the phone number is empty")
	}
	if s[0] != '+' {
		return Number{}, invalid("it must start with + followed by the country code")
	}
	cc, rest, ok := strings.Cut(s[1:], " ")
	if !ok {
		return Number{}, invalid("it must have one space between the country code and the number")
	}
	if err := checkCountryCode(cc); err != nil {
		return Number{}, err
	}
	national, ext, hasExt := cutExtension(rest)
	if err := checkNational(national); err != nil {
		return Number{}, err
	}
	if hasExt {
		if err := checkExtension(ext); err != nil {
			return Number{}, err
		}
	}
	return Number{CountryCode: cc, National: national, Extension: ext}, nil
}

// cutExtension splits "NNNN[xEXT]" at the first x or X.
func cutExtension(s string) (national, ext string, found bool) {
	i := strings.IndexAny(s, "xX")
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func checkCountryCode(cc string) error {
	if !isDigits(cc) || len(cc) < minCountryCode || len(cc) > maxCountryCode {
		return invalid("the country code must be 1 to 3 digits")
	}
	if cc[0] == '0' {
		return invalid("the country code must not start with 0")
	}
	return nil
}

func checkNational(n string) error {
	if strings.Contains(n, " ") {
		return invalid("it must have exactly one space, right after the country code")
	}
	if !isDigits(n) || len(n) < minNational || len(n) > maxNational {
		return invalid("the number after the country code must be 4 to 15 digits")
	}
	return nil
}

func checkExtension(ext string) error {
	if !isDigits(ext) || len(ext) < minExtension || len(ext) > maxExtension {
		return invalid("the extension after x must be 1 to 10 digits")
	}
	return nil
}

// isDigits reports whether s is non-empty and all ASCII digits. Other
// Unicode digits are rejected because Graph does not accept them.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Normalize returns a form of s for comparison only. It forgives what does
// not change which phone rings: leading and trailing whitespace, extra
// whitespace between the country code and the number or inside the number
// or extension (Graph has returned "+1 206 555 5554"), and 'X' versus 'x'.
// When the result is a valid number it is the canonical String(); otherwise
// it is the input with whitespace collapsed and 'X' lowered, so two invalid
// inputs still compare sensibly. Normalize is idempotent.
func Normalize(s string) string {
	fields := strings.Fields(strings.ReplaceAll(s, "X", "x"))
	if len(fields) == 0 {
		return ""
	}
	candidate := fields[0]
	if len(fields) > 1 {
		candidate += " " + strings.Join(fields[1:], "")
	}
	if n, err := Parse(candidate); err == nil {
		return n.String()
	}
	return strings.Join(fields, " ")
}

// Equal reports whether a and b are the same phone number as far as Graph
// is concerned, i.e. whether their normalised forms are equal.
func Equal(a, b string) bool {
	return Normalize(a) == Normalize(b)
}

// unparseableMask is what Mask returns for input it cannot parse. A fixed
// string leaks nothing: we cannot tell which digits of garbage are the
// country code, and the input may not be a phone number at all.
const unparseableMask = "***"

// Mask returns s safe for status, events and logs: the country code and the
// last 3 digits of the national number stay, every other digit becomes '*'
// ("+1 2065555554x12" -> "+1 *******554x**"). The extension is masked in
// full, not dropped, so a reader can tell that one is set. Input that does
// not parse, even after Normalize, yields "***".
func Mask(s string) string {
	n, err := Parse(Normalize(s))
	if err != nil {
		return unparseableMask
	}
	return n.masked()
}
