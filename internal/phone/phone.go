// Package phone parses, compares and masks phone numbers in the format
// Microsoft Graph uses for phone authentication methods:
//
//	+{country code} {national number}[x{extension}]
//
// and in E.164 without the space (+4917012345678), which Graph accepts too.
// What a number is (its country code, whether its length is possible, its
// type) is decided by github.com/nyaruka/phonenumbers, the Go port of
// Google's libphonenumber; this package adds Graph's syntax, the extension,
// masking, and errors that never contain the number.
//
// It is pure (no I/O) so that the planner, the status writer and the tests
// share one definition of "the same number" and one way of keeping numbers
// out of logs, events and status.
package phone

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

const (
	// maxDigits is E.164's limit: at most 15 digits, country code included.
	maxDigits = 15
	// maxExtension is the longest extension accepted, as at admission.
	maxExtension = 10

	// visibleDigits is how many trailing national digits Mask keeps: enough
	// for a person to recognise their own number, too few to dial it.
	visibleDigits = 3
	// minMaskable is the shortest national part Mask shows anything of, so
	// that at least one national digit is always hidden.
	minMaskable = visibleDigits + 1
)

// ErrInvalid is wrapped by every Parse error, so callers can map any parse
// failure to one reason (for example InvalidNumber) with errors.Is. Each
// error also wraps exactly one of the more specific errors below, which say
// why the number was refused.
var ErrInvalid = errors.New("invalid phone number")

// Why a number is invalid. Every error this package returns wraps ErrInvalid
// and one of these.
var (
	// ErrNotANumber: empty, no leading '+', or characters other than digits
	// and the one space after the country code.
	ErrNotANumber = errors.New("not a phone number")
	// ErrInvalidCountryCode: no country has this calling code, or the digits
	// before the space are not one.
	ErrInvalidCountryCode = errors.New("invalid country code")
	// ErrTooShort: fewer digits than any number of its country has.
	ErrTooShort = errors.New("too short")
	// ErrTooLong: more than E.164's 15 digits, or more than any number of
	// its country has.
	ErrTooLong = errors.New("too long")
	// ErrInvalidLength: between its country's shortest and longest numbers,
	// but of a length no number of that country has.
	ErrInvalidLength = errors.New("invalid length")
	// ErrInvalidExtension: 'x' not followed by 1 to 10 digits.
	ErrInvalidExtension = errors.New("invalid extension")
	// ErrInvalidForRegion: possible, but not a number of its country's
	// numbering plan (CheckRegion; Parse does not refuse these).
	ErrInvalidForRegion = errors.New("not valid for its region")
)

// Number is a phone number split into the parts Graph distinguishes.
// All fields hold ASCII digits only; Extension is empty when there is none.
// National is the national significant number: without a national trunk
// prefix ("0" in "+44 07700900123"), with the leading zero that belongs to
// the number where there is one (Italy's "+39 06...").
type Number struct {
	CountryCode string
	National    string
	Extension   string
}

// String returns the canonical Graph form "+CC NNNN[xEXT]", with the
// country code split off where libphonenumber splits it and a lower-case x.
// This is what phoneop writes to Graph.
func (n Number) String() string {
	s := "+" + n.CountryCode + " " + n.National
	if n.Extension != "" {
		s += "x" + n.Extension
	}
	return s
}

// E164 returns the number in E.164 ("+4917012345678"), without the
// extension. Two numbers are Equal when their E164 and Extension are.
func (n Number) E164() string {
	return "+" + n.CountryCode + n.National
}

// masked returns the number with all but the last visibleDigits national
// digits replaced by '*' (at least one is always replaced), and every
// extension digit replaced by '*'. The extension is masked rather than
// dropped so that a status reader can still see that the stored number
// carries one.
func (n Number) masked() string {
	hide := max(len(n.National)-visibleDigits, min(len(n.National), 1))
	m := Number{
		CountryCode: n.CountryCode,
		National:    strings.Repeat("*", hide) + n.National[hide:],
		Extension:   strings.Repeat("*", len(n.Extension)),
	}
	return m.String()
}

// parseError is every error of this package. The detail never contains the
// input: parse errors end up in conditions and events, where a number must
// not appear. It may name the country code, which masked numbers show too.
type parseError struct {
	why    error
	detail string
}

func (e *parseError) Error() string   { return ErrInvalid.Error() + ": " + e.detail }
func (e *parseError) Unwrap() []error { return []error{ErrInvalid, e.why} }

func invalid(why error, detail string) error {
	return &parseError{why: why, detail: detail}
}

// Parse accepts the forms Graph documents and accepts:
//
//   - "+CC NATIONAL": '+', the country code, one space, the national number
//     ("+49 1701234567"; a national trunk prefix, "+44 07700900123", is
//     dropped);
//   - "+DIGITS": E.164 without the space ("+491701234567");
//
// each optionally followed by 'x' or 'X' and an extension of 1 to 10 digits.
// Only ASCII digits are allowed, at most 15 of them before the extension
// (E.164's limit). libphonenumber then finds the country code (with a space,
// the digits before it must be exactly that country code) and checks that a
// number of that country can have this length.
//
// Parse does not check that the number is assigned in its country's
// numbering plan (CheckRegion does): fictional numbers that Graph accepts,
// such as the documentation's "+1 5555551234", must stay usable.
//
// Errors wrap ErrInvalid and one of ErrNotANumber, ErrInvalidCountryCode,
// ErrTooShort, ErrTooLong, ErrInvalidLength or ErrInvalidExtension, and
// never contain the number. Parse is strict about syntax; use
// Parse(Normalize(s)) to also accept the spacing and punctuation Graph
// returns ("+1 206 555 5554", "+49 170 123-4567").
func Parse(s string) (Number, error) {
	if s == "" {
		return Number{}, invalid(ErrNotANumber, "the phone number is empty")
	}
	if s[0] != '+' {
		return Number{}, invalid(ErrNotANumber, "it must start with + followed by the country code")
	}
	main, ext, hasExt := cutExtension(s[1:])
	if hasExt && (!isDigits(ext) || len(ext) > maxExtension) {
		return Number{}, invalid(ErrInvalidExtension, "the extension after x must be 1 to 10 digits")
	}
	typedCC, national, spaced := strings.Cut(main, " ")
	if !isDigits(typedCC) || (spaced && !isDigits(national)) {
		return Number{}, invalid(ErrNotANumber, "only digits may follow the +, with at most one space, right after the country code")
	}
	if len(typedCC)+len(national) > maxDigits {
		return Number{}, invalid(ErrTooLong, "it has more than 15 digits, the most E.164 allows (country code included)")
	}
	p, err := phonenumbers.Parse("+"+typedCC+national, "ZZ")
	if err != nil {
		return Number{}, libraryError(err)
	}
	cc := strconv.Itoa(int(p.GetCountryCode()))
	if spaced && typedCC != cc {
		return Number{}, invalid(ErrInvalidCountryCode, "the digits before the space are not a country code")
	}
	p = stable(p)
	if err := checkPossible(p, cc); err != nil {
		return Number{}, err
	}
	return Number{CountryCode: cc, National: phonenumbers.GetNationalSignificantNumber(p), Extension: ext}, nil
}

// stable re-parses p until the library strips no further national prefix, so that
// Parse(n.String()) == n. Real numbers are stable at once (a test checks every country's
// examples); only runs of prefix digits ("+81 000000000000") take more than one pass. A pass
// strips at least one digit, so maxDigits passes always suffice; the bound only guards
// against a rewriting rule in the metadata that would not shorten the number.
func stable(p *phonenumbers.PhoneNumber) *phonenumbers.PhoneNumber {
	for range maxDigits {
		nsn := phonenumbers.GetNationalSignificantNumber(p)
		again, err := phonenumbers.Parse("+"+strconv.Itoa(int(p.GetCountryCode()))+nsn, "ZZ")
		if err != nil || phonenumbers.GetNationalSignificantNumber(again) == nsn {
			return p
		}
		p = again
	}
	return p
}

// cutExtension splits "NNNN[xEXT]" at the first x or X.
func cutExtension(s string) (main, ext string, found bool) {
	i := strings.IndexAny(s, "xX")
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// libraryError translates a libphonenumber parse error. The library's
// messages contain no input either, but ours say what to fix.
func libraryError(err error) error {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return invalid(ErrInvalidCountryCode, "no country has the country code it starts with")
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return invalid(ErrTooShort, "it is too short to be a phone number")
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return invalid(ErrTooLong, "it is too long to be a phone number")
	default:
		return invalid(ErrNotANumber, "it is not a phone number")
	}
}

// checkPossible checks the length against what the number's country allows.
func checkPossible(p *phonenumbers.PhoneNumber, cc string) error {
	switch phonenumbers.IsPossibleNumberWithReason(p) {
	case phonenumbers.IS_POSSIBLE:
		return nil
	case phonenumbers.INVALID_COUNTRY_CODE:
		return invalid(ErrInvalidCountryCode, "no country has the country code it starts with")
	case phonenumbers.TOO_SHORT:
		return invalid(ErrTooShort, "it is too short for a number with country code +"+cc)
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return invalid(ErrTooShort, "it is too short for a number with country code +"+cc+" (it can only be dialled locally; add the area code)")
	case phonenumbers.TOO_LONG:
		return invalid(ErrTooLong, "it is too long for a number with country code +"+cc)
	default: // INVALID_LENGTH
		return invalid(ErrInvalidLength, "no number with country code +"+cc+" has that many digits")
	}
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

// library returns the number as libphonenumber's type, for the checks that
// need its metadata. ok is false only for a Number that Parse did not make.
func (n Number) library() (*phonenumbers.PhoneNumber, bool) {
	p, err := phonenumbers.Parse(n.E164(), "ZZ")
	return p, err == nil
}

// CheckRegion returns nil when n is a valid number in its country's
// numbering plan (libphonenumber's IsValidNumber), else an error wrapping
// ErrInvalid and ErrInvalidForRegion. Parse does not apply it: Graph
// accepts numbers the plan does not assign, and so do the fictional numbers
// documentation and tests use ("+1 5555551234", "+44 7700900123").
func CheckRegion(n Number) error {
	if p, ok := n.library(); ok && phonenumbers.IsValidNumber(p) {
		return nil
	}
	return invalid(ErrInvalidForRegion, "it is not a valid number in the numbering plan of country code +"+n.CountryCode)
}

// IsFixedLine reports whether libphonenumber classifies n as a fixed line
// (FIXED_LINE). A number that may be either, as all of North America's are
// (FIXED_LINE_OR_MOBILE), is not; nor is one the library cannot classify.
func IsFixedLine(n Number) bool {
	p, ok := n.library()
	return ok && phonenumbers.GetNumberType(p) == phonenumbers.FIXED_LINE
}

// IsMasked reports whether an observed number is unreadable: empty (or only
// whitespace), or masked with '*' (Graph shows callers without full read
// rights e.g. "+1 ********34"). Such an observation says nothing about the
// number, so it must never be written over or compared.
func IsMasked(s string) bool {
	return strings.TrimSpace(s) == "" || strings.Contains(s, "*")
}

// separators are what may group digits in an observed number: Graph has
// returned "+1 206 555 5554" and "+49 170 123-4567".
const separators = " \t\n\r\f\v-.()"

// syntactic rewrites a loosely written number into Parse's syntax without
// consulting the library: "+1 (206) 555-5554 X 12" becomes
// "+1 2065555554x12". The digits before the first separator are taken as the
// country code; without a separator, the result is the no-space form. It
// returns false when s is not '+', digits and separators with an optional
// extension.
func syntactic(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	main, ext, hasExt := cutExtension(s[1:])
	if hasExt {
		ext = strings.Join(strings.Fields(ext), "")
		if !isDigits(ext) {
			return "", false
		}
	}
	cc, rest := main, ""
	if i := strings.IndexAny(main, separators); i >= 0 {
		cc, rest = main[:i], main[i:]
	}
	var national strings.Builder
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			national.WriteRune(r)
		case strings.ContainsRune(separators, r):
		default:
			return "", false
		}
	}
	if !isDigits(cc) || (rest != "" && national.Len() == 0) {
		return "", false
	}
	out := "+" + cc
	if rest != "" {
		out += " " + national.String()
	}
	if hasExt {
		out += "x" + ext
	}
	return out, true
}

// parseLoose is Parse after syntactic: what Normalize, Equal and Mask accept.
func parseLoose(s string) (Number, error) {
	if strings.Contains(s, "*") {
		return Number{}, invalid(ErrNotANumber, "it is masked")
	}
	form, ok := syntactic(s)
	if !ok {
		return Parse(strings.TrimSpace(s))
	}
	return Parse(form)
}

// Normalize returns s in Parse's syntax. It forgives what does not change
// which phone rings: leading and trailing whitespace, spaces and the
// punctuation " -.()" between digits (Graph has returned "+1 206 555 5554"),
// spacing around and the case of the extension's x. When the result is a
// number it is the canonical String() (so a trunk prefix is dropped too);
// when it is well-formed but not a number, the rewritten form, so that
// Parse(Normalize(s)) says why ("too short"); otherwise s with whitespace
// collapsed and 'X' lowered. Normalize is idempotent. Use Parse(Normalize(s))
// to read a number from a Secret or from Graph.
func Normalize(s string) string {
	if n, err := parseLoose(s); err == nil {
		return n.String()
	}
	if form, ok := syntactic(s); ok {
		return form
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "X", "x")), " ")
}

// Equal reports whether a and b are the same phone number: the same E.164
// number and the same extension, whatever their spacing, punctuation or
// national trunk prefix ("+15555551234", "+1 555-555-1234" and
// "+1 5555551234" are Equal; so are "+44 07700900123" and "+44 7700900123").
// A string that is not a number, and in particular a masked one (IsMasked),
// is Equal to nothing, not even itself.
func Equal(a, b string) bool {
	na, err := parseLoose(a)
	if err != nil {
		return false
	}
	nb, err := parseLoose(b)
	if err != nil {
		return false
	}
	return na.E164() == nb.E164() && na.Extension == nb.Extension
}

// unparseableMask is what Mask returns for input it cannot read. A fixed
// string leaks nothing: we cannot tell which digits of garbage are the
// country code, and the input may not be a phone number at all.
const unparseableMask = "***"

// Mask returns s safe for status, events and logs: the country code and the
// last 3 digits of the national number stay, every other digit becomes '*'
// ("+1 2065555554x12" -> "+1 *******554x**"). The extension is masked in
// full, not dropped, so a reader can tell that one is set. A number is
// masked in its canonical form; one libphonenumber refuses but written as
// "+CC NATIONAL" (CC of 1 to 3 digits, at least 4 national digits) is masked
// as written, so status still shows what Graph holds. Anything else,
// including an already masked number, yields "***".
func Mask(s string) string {
	if n, err := parseLoose(s); err == nil {
		return n.masked()
	}
	form, ok := syntactic(s)
	if !ok {
		return unparseableMask
	}
	main, ext, _ := cutExtension(form[1:])
	cc, national, spaced := strings.Cut(main, " ")
	if !spaced || len(cc) > 3 || len(national) < minMaskable {
		return unparseableMask
	}
	return Number{CountryCode: cc, National: national, Extension: ext}.masked()
}
