package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers"
)

func TestParse(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		// expected outputs
		want    Number
		wantWhy error  // the specific error wrapped besides ErrInvalid; nil means success
		wantErr string // substring of the error
	}{
		"the documented form parses": {
			reason: "Graph documents '+<country code> <number>'.",
			in:     "+49 17012345678",
			want:   Number{CountryCode: "49", National: "17012345678"},
		},
		"E.164 without the space parses": {
			reason: "Graph accepts E.164 without the space; libphonenumber finds the country code.",
			in:     "+4917012345678",
			want:   Number{CountryCode: "49", National: "17012345678"},
		},
		"a three digit country code without the space is found": {
			reason: "Country codes are prefix-free, so the library can split them off.",
			in:     "+3545551234",
			want:   Number{CountryCode: "354", National: "5551234"},
		},
		"the documentation's fictional number parses": {
			reason: "'+1 5555551234' is Graph's own example; it is possible, though not assigned (see CheckRegion).",
			in:     "+1 5555551234",
			want:   Number{CountryCode: "1", National: "5555551234"},
		},
		"an extension with lower-case x parses": {
			reason: "Graph allows an extension after x.",
			in:     "+1 5555551234x123",
			want:   Number{CountryCode: "1", National: "5555551234", Extension: "123"},
		},
		"an extension with upper-case X parses": {
			reason: "X is accepted and stored without its case.",
			in:     "+44 2071234567X9",
			want:   Number{CountryCode: "44", National: "2071234567", Extension: "9"},
		},
		"an extension after E.164 without the space parses": {
			reason: "The extension is ours to split off, whatever the form before it.",
			in:     "+14255550100x12",
			want:   Number{CountryCode: "1", National: "4255550100", Extension: "12"},
		},
		"a ten digit extension parses": {
			reason: "Extensions of 1 to 10 digits are accepted, as at admission (the library alone stops at 9 after x).",
			in:     "+44 2071234567x1234567890",
			want:   Number{CountryCode: "44", National: "2071234567", Extension: "1234567890"},
		},
		"a national trunk prefix is dropped": {
			reason: "'+44 07700900123' dials the same phone as '+44 7700900123'.",
			in:     "+44 07700900123",
			want:   Number{CountryCode: "44", National: "7700900123"},
		},
		"Italy's leading zero is kept": {
			reason: "In Italy the 0 is part of the number, not a trunk prefix.",
			in:     "+39 0612345678",
			want:   Number{CountryCode: "39", National: "0612345678"},
		},
		"fifteen digits parse": {
			reason: "E.164's maximum is inclusive.",
			in:     "+49 1701234567890",
			want:   Number{CountryCode: "49", National: "1701234567890"},
		},
		"a four digit national number parses where the country has them": {
			reason: "Niue's numbers have four digits; lengths come from the country's plan.",
			in:     "+683 7290",
			want:   Number{CountryCode: "683", National: "7290"},
		},

		"an empty string is refused": {
			reason: "Nothing to parse.", in: "", wantWhy: ErrNotANumber, wantErr: "empty",
		},
		"a number without plus is refused": {
			reason: "Graph requires the leading +.", in: "1 5555551234", wantWhy: ErrNotANumber, wantErr: "must start with +",
		},
		"leading whitespace is refused": {
			reason: "Parse is strict; Normalize trims.", in: " +1 5555551234", wantWhy: ErrNotANumber, wantErr: "must start with +",
		},
		"a second space is refused": {
			reason: "Parse is strict; Normalize forgives spacing.", in: "+1 206 5555554", wantWhy: ErrNotANumber, wantErr: "at most one space",
		},
		"a dash in the number is refused": {
			reason: "Parse is strict; Normalize forgives punctuation.", in: "+1 206-555-5554", wantWhy: ErrNotANumber, wantErr: "only digits",
		},
		"an empty country code is refused": {
			reason: "A country code is required.", in: "+ 5555551234", wantWhy: ErrNotANumber, wantErr: "only digits",
		},
		"non-ASCII digits are refused": {
			reason: "Graph accepts ASCII digits only.", in: "+1 ٥٥٥٥٥٥١٢٣٤", wantWhy: ErrNotANumber, wantErr: "only digits",
		},
		"letters are refused": {
			reason: "The library would read 'FLOWERS' as digits; Graph would not.", in: "+1 800FLOWERS", wantWhy: ErrNotANumber, wantErr: "only digits",
		},
		"sixteen digits are refused": {
			reason: "E.164 allows at most 15 digits, even where the library would take more.", in: "+4917012345678901", wantWhy: ErrTooLong, wantErr: "more than 15 digits",
		},
		"sixteen digits with the space are refused": {
			reason: "The 15 digits include the country code.", in: "+1 425555011312345", wantWhy: ErrTooLong, wantErr: "more than 15 digits",
		},
		"a country code starting with 0 is refused": {
			reason: "No country code starts with 0.", in: "+01 5555551234", wantWhy: ErrInvalidCountryCode, wantErr: "country code",
		},
		"an unassigned country code is refused": {
			reason: "+999 belongs to no country.", in: "+999 5555551234", wantWhy: ErrInvalidCountryCode, wantErr: "country code",
		},
		"a space in the wrong place is refused": {
			reason: "With a space, the digits before it must be the country code: 12 is not one.", in: "+12 065555554", wantWhy: ErrInvalidCountryCode, wantErr: "before the space are not a country code",
		},
		"a four digit country code is refused": {
			reason: "The library reads +1 and 234; the writer meant a country code 1234, which does not exist.", in: "+1234 5555551234", wantWhy: ErrInvalidCountryCode, wantErr: "before the space",
		},
		"a short North American number is refused": {
			reason: "North American numbers have 10 digits.", in: "+1 55555", wantWhy: ErrTooShort, wantErr: "too short for a number with country code +1",
		},
		"a national part of three digits is refused": {
			reason: "Too short anywhere.", in: "+1 123", wantWhy: ErrTooShort, wantErr: "too short",
		},
		"a long North American number is refused": {
			reason: "Within E.164's 15 digits, but too long for +1.", in: "+1 42555501001", wantWhy: ErrTooLong, wantErr: "too long for a number with country code +1",
		},
		"a length no Norwegian number has is refused": {
			reason: "Norway's numbers have 5 or 8 digits: between the shortest and the longest is not enough.", in: "+47 555555", wantWhy: ErrInvalidLength, wantErr: "no number with country code +47 has that many digits",
		},
		"a number without its area code is refused": {
			reason: "It can only be dialled from within its area.", in: "+44 123456", wantWhy: ErrTooShort, wantErr: "add the area code",
		},
		"an empty extension is refused": {
			reason: "x must be followed by digits.", in: "+1 5555551234x", wantWhy: ErrInvalidExtension, wantErr: "extension",
		},
		"an eleven digit extension is refused": {
			reason: "At most 10 extension digits.", in: "+1 5555551234x12345678901", wantWhy: ErrInvalidExtension, wantErr: "extension",
		},
		"a masked number is refused": {
			reason: "What Graph shows a caller without read rights is not a number.", in: "+1 ********34", wantWhy: ErrNotANumber, wantErr: "only digits",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantWhy != nil {
				if err == nil {
					t.Fatalf("%s\nParse(...): want error %q, got %+v", tc.reason, tc.wantErr, got)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s\nParse(...): want error containing %q, got %q", tc.reason, tc.wantErr, err)
				}
				if !errors.Is(err, ErrInvalid) || !errors.Is(err, tc.wantWhy) {
					t.Errorf("%s\nParse(...): error %q does not wrap ErrInvalid and %v", tc.reason, err, tc.wantWhy)
				}
				assertNoNumberIn(t, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("%s\nParse(...): unexpected error %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nParse(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRepoNumbersParse pins what this package decides about the numbers the repository's tests,
// samples and docs use: every one is possible (Parse accepts it), and only some are valid in
// their country's plan, which is why Parse does not require CheckRegion. A library update that
// moves a number between the lists fails here first.
func TestRepoNumbersParse(t *testing.T) {
	valid := []string{
		"+1 2065550100", "+1 2065550199", "+1 2065555554", "+1 4255550100", "+1 4255550199",
		"+1 3605550104", "+12065550100", "+14255550100x12", "+49 1701234567", "+491701234567",
		"+49 01701234567", "+44 2071234567", "+44 2075550101", "+39 0612345678", "+354 5551234",
		"+7 4951234567", "+353 871234567",
	}
	notInPlan := []string{
		// Graph's documented example and the README's; area code 555 is not assigned.
		"+1 5555551234", "+1 5555551234x123", "+15555550101",
		// Ofcom's range for drama (test/e2e uses it).
		"+44 7700900123", "+447700900123", "+44 07700900123",
		// test/bench's synthetic numbers: area codes 200, 300, 400 and 900 are not assigned.
		"+1 2000000001", "+1 3000000001", "+1 4000000001", "+1 9000000001",
	}
	for _, s := range valid {
		n, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if err := CheckRegion(n); err != nil {
			t.Errorf("CheckRegion(%q): %v, want nil", s, err)
		}
	}
	for _, s := range notInPlan {
		n, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v; it must stay usable", s, err)
			continue
		}
		if err := CheckRegion(n); !errors.Is(err, ErrInvalidForRegion) || !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckRegion(%q) = %v, want ErrInvalidForRegion", s, err)
		} else {
			assertNoNumberIn(t, err.Error())
		}
	}
}

// assertNoNumberIn fails if msg has 4 or more digits in a row: an error may name a country
// code (at most 3 digits) or a limit ("15"), never a number or part of one.
func assertNoNumberIn(t *testing.T, msg string) {
	t.Helper()
	if run := longestDigitRun(msg); run > 3 {
		t.Errorf("error %q shows %d digits in a row", msg, run)
	}
}

func TestString(t *testing.T) {
	cases := map[string]struct {
		in       Number
		want     string
		wantE164 string
	}{
		"no extension":   {Number{"1", "2065555554", ""}, "+1 2065555554", "+12065555554"},
		"with extension": {Number{"49", "301234567", "12"}, "+49 301234567x12", "+49301234567"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("String(): want %q, got %q", tc.want, got)
			}
			if got := tc.in.E164(); got != tc.wantE164 {
				t.Errorf("E164(): want %q, got %q", tc.wantE164, got)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"a canonical number is unchanged": {
			reason: "Normalize of canonical is itself.", in: "+1 2065555554", want: "+1 2065555554",
		},
		"E.164 without the space gets the space": {
			reason: "The canonical form splits the country code off.", in: "+4917012345678", want: "+49 17012345678",
		},
		"spaces inside the national part are removed": {
			reason: "Graph may return numbers grouped with spaces.", in: "+1 206 555 5554", want: "+1 2065555554",
		},
		"dashes and parentheses are removed": {
			reason: "Punctuation does not change which phone rings.", in: "+1 (206) 555-5554", want: "+1 2065555554",
		},
		"a trunk prefix is dropped": {
			reason: "The canonical form is the national significant number.", in: "+49 0170 1234567", want: "+49 1701234567",
		},
		"surrounding and repeated whitespace is forgiven": {
			reason: "Whitespace does not change which phone rings.", in: "  +1   206 5555554\t", want: "+1 2065555554",
		},
		"spaces around and the case of the extension's x are forgiven": {
			reason: "Grouping may reach into the extension.", in: "+1 2065555554 X 12", want: "+1 2065555554x12",
		},
		"a well-formed number that is too short is only rewritten": {
			reason: "So that Parse(Normalize(s)) says it is too short.", in: "+1 206-555", want: "+1 206555",
		},
		"text that is not a number keeps its characters with whitespace collapsed": {
			reason: "Two invalid inputs must still compare deterministically.", in: "  206 5555554  ", want: "206 5555554",
		},
		"a masked number stays masked": {
			reason: "Nothing to normalise.", in: " +1  ********34", want: "+1 ********34",
		},
		"an empty string stays empty": {
			reason: "Nothing to normalise.", in: "   ", want: "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("%s\nNormalize(%q): want %q, got %q", tc.reason, tc.in, tc.want, got)
			}
		})
	}
}

func TestParseOfNormalizeSaysWhy(t *testing.T) {
	for in, why := range map[string]error{
		"+1 206-555":         ErrTooShort,
		"+1 (425) 555-01001": ErrTooLong,
		"+999 425 555 0100":  ErrInvalidCountryCode,
		"+1 425 555 0100x":   ErrInvalidExtension,
		"206-555-0100":       ErrNotANumber,
		"+1 ********34":      ErrNotANumber,
	} {
		_, err := Parse(Normalize(in))
		if !errors.Is(err, why) {
			t.Errorf("Parse(Normalize(%q)) = %v, want %v", in, err, why)
		}
	}
}

func TestEqual(t *testing.T) {
	cases := map[string]struct {
		a, b string
		want bool
	}{
		"E.164 and the documented form are equal":      {"+15555551234", "+1 5555551234", true},
		"punctuation is equal":                         {"+1 555-555-1234", "+15555551234", true},
		"different spacing is equal":                   {"+1 2065555554", "+1 206 555 5554", true},
		"a trunk prefix is equal":                      {"+44 07700900123", "+44 7700900123", true},
		"Graph's spaced German form is equal":          {"+49 170 123-4567", "+491701234567", true},
		"case of x is equal":                           {"+1 2065555554x1", "+1 2065555554X1", true},
		"an extension without the space is equal":      {"+14255550100x12", "+1 4255550100x12", true},
		"different digits are not":                     {"+1 2065555554", "+1 2065555555", false},
		"different country code is not":                {"+1 2065555554", "+44 2065555554", false},
		"an extension makes a difference":              {"+1 2065555554", "+1 2065555554x1", false},
		"different extensions are not":                 {"+1 2065555554x1", "+1 2065555554x01", false},
		"Italy's leading zero makes a difference":      {"+39 0612345678", "+39 612345678", false},
		"a space in the wrong place is not the number": {"+1 2065555554", "+12 065555554", false},
		"a masked number is not equal to the number":   {"+1 ********54", "+1 2065555554", false},
		"a masked number is not equal to itself":       {"+1 ********54", "+1 ********54", false},
		"an empty observation is not equal to itself":  {"", "", false},
		"garbage is not equal to itself":               {"hello", "hello", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Errorf("Equal(%q, %q): want %v, got %v", tc.a, tc.b, tc.want, got)
			}
			if got := Equal(tc.b, tc.a); got != tc.want {
				t.Errorf("Equal(%q, %q): want %v, got %v (not symmetric)", tc.b, tc.a, tc.want, got)
			}
		})
	}
}

func TestIsFixedLine(t *testing.T) {
	cases := map[string]struct {
		in   string
		want bool
	}{
		"a London number is a fixed line":                     {"+44 2071234567", true},
		"a Berlin office number with extension is":            {"+49 301234567x12", true},
		"a German mobile is not":                              {"+49 1701234567", false},
		"a North American number may be either, so it is not": {"+1 4255550100", false},
		"a number not in its country's plan is not":           {"+1 5555551234", false},
		"a toll-free number is not":                           {"+800 12345678", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := IsFixedLine(n); got != tc.want {
				t.Errorf("IsFixedLine(%q): want %v, got %v", tc.in, tc.want, got)
			}
		})
	}
	if IsFixedLine(Number{}) {
		t.Errorf("IsFixedLine(Number{}) = true, want false")
	}
}

func TestIsMasked(t *testing.T) {
	cases := map[string]bool{
		"+1 ********34":  true,
		"+1 *******554x": true,
		"***":            true,
		"":               true,
		"  ":             true,
		"+1 2065555554":  false,
		"+12065555554":   false,
		"hello":          false,
	}
	for in, want := range cases {
		if got := IsMasked(in); got != want {
			t.Errorf("IsMasked(%q): want %v, got %v", in, want, got)
		}
	}
}

func TestMask(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"a mobile keeps country code and last three digits": {
			reason: "The documented example.", in: "+1 2065555554", want: "+1 *******554",
		},
		"E.164 without the space is masked canonically": {
			reason: "The library splits the country code off.", in: "+4917012345678", want: "+49 ********678",
		},
		"the extension is masked in full": {
			reason: "An extension is shown as present but never revealed.", in: "+1 2065555554x123", want: "+1 *******554x***",
		},
		"a number with Graph spacing is masked canonically": {
			reason: "Mask accepts what Normalize forgives.", in: " +1 206 555 5554 ", want: "+1 *******554",
		},
		"a four digit national number keeps three": {
			reason: "Still one digit masked.", in: "+683 7290", want: "+683 *290",
		},
		"a number the library refuses is masked as written": {
			reason: "Status shows what Graph holds even if libphonenumber finds it too short.", in: "+358 1234", want: "+358 *234",
		},
		"a number written with a wrong country code is masked as written": {
			reason: "Nothing of it is revealed beyond what was written before the space.", in: "+12 065555554", want: "+12 ******554",
		},
		"an already masked number is fully hidden": {
			reason: "We cannot tell what it shows.", in: "+1 ********34", want: "***",
		},
		"an unparseable number is fully hidden": {
			reason: "Garbage may still contain a number; nothing of it is returned.", in: "206-555-5554", want: "***",
		},
		"E.164 without the space that the library refuses is fully hidden": {
			reason: "Without the space we cannot tell the country code.", in: "+0123456789", want: "***",
		},
		"an empty number is fully hidden": {
			reason: "No special case for empty input.", in: "", want: "***",
		},
		"text that is not a number is fully hidden": {
			reason: "Mask never returns its input unmasked.", in: "hello", want: "***",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Mask(tc.in); got != tc.want {
				t.Errorf("%s\nMask(%q): want %q, got %q", tc.reason, tc.in, tc.want, got)
			}
		})
	}
}

// TestEveryCountrysExampleNumber is a property test over the library's example numbers, one
// per region and type: each parses in both forms to the same Number, round-trips through
// String, is Equal to its E.164 form, is masked without showing more than three digits, and
// IsFixedLine agrees with the library's type.
func TestEveryCountrysExampleNumber(t *testing.T) {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.VOIP}
	checked := 0
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			example := phonenumbers.GetExampleNumberForType(region, typ)
			if example == nil {
				continue
			}
			e164 := phonenumbers.Format(example, phonenumbers.E164)
			if len(e164)-1 > maxDigits {
				continue // a few plans have numbers longer than E.164 allows; Parse refuses them
			}
			checked++
			n, err := Parse(e164)
			if err != nil {
				t.Errorf("%s %v: Parse(E.164): %v", region, typ, err)
				continue
			}
			spaced, err := Parse(n.String())
			if err != nil {
				t.Errorf("%s %v: Parse(String()): %v", region, typ, err)
				continue
			}
			if diff := cmp.Diff(n, spaced); diff != "" {
				t.Errorf("%s %v: the two forms differ: -E.164, +spaced:\n%s", region, typ, diff)
			}
			if n.E164() != e164 || !Equal(e164, n.String()) {
				t.Errorf("%s %v: E164() = %s, want %s and Equal to String()", region, typ, n.E164(), e164)
			}
			if err := CheckRegion(n); err != nil {
				t.Errorf("%s %v: CheckRegion of the library's own example: %v", region, typ, err)
			}
			if got, want := IsFixedLine(n), phonenumbers.GetNumberType(example) == phonenumbers.FIXED_LINE; got != want {
				t.Errorf("%s %v: IsFixedLine = %v, want %v", region, typ, got, want)
			}
			if m := Mask(e164); longestDigitRun(m) > visibleDigits || strings.Contains(m, n.National) {
				t.Errorf("%s %v: Mask shows too much: %s", region, typ, m)
			}
		}
	}
	if checked < 500 {
		t.Fatalf("checked only %d example numbers; did the library's metadata move?", checked)
	}
}

// longestDigitRun returns the length of the longest run of ASCII digits in s.
func longestDigitRun(s string) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"+1 2065555554", "+1 5555551234x123", "+44 2071234567X9", "+358 1234", "+4917012345678",
		"+1 206 555 5554", " +1 2065555554 ", "+01 1234", "+1 123", "", "+", "x", "+44 07700900123",
		"+1 123456789012345x1234567890", "+1234 5555", "206-555-5554", "+1 2065555554x", "+39 0612345678",
		"+1 ********34", "+49 170 123-4567", "+1 (206) 555-5554 X 12", "+12 065555554", "+800 12345678",
		"+8100000000000", // a run of trunk prefixes: Parse strips until String() round-trips
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm := Normalize(s)
		if Normalize(norm) != norm {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", s, norm, Normalize(norm))
		}

		masked := Mask(s)
		if masked != unparseableMask && masked == strings.TrimSpace(s) {
			t.Fatalf("Mask returned its input unmasked: %q", s)
		}
		// The country code (at most 3 digits) and the last 3 national
		// digits are separated by a space, so no longer run can appear.
		if run := longestDigitRun(masked); run > visibleDigits {
			t.Fatalf("Mask(%q) = %q shows %d digits in a row", s, masked, run)
		}
		if IsMasked(s) && (Equal(s, s) || Equal(s, "+1 2065555554")) {
			t.Fatalf("masked %q is Equal to something", s)
		}

		// Errors never show the number, however it was read.
		for _, in := range []string{s, norm} {
			if _, err := Parse(in); err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) error does not wrap ErrInvalid: %v", in, err)
				}
				if run := longestDigitRun(err.Error()); run > 3 {
					t.Fatalf("Parse(%q) error shows %d digits in a row: %v", in, run, err)
				}
			}
		}

		loose, looseErr := Parse(norm)
		if Equal(s, s) != (looseErr == nil) {
			t.Fatalf("Equal(%q, itself) = %v, but Parse(Normalize) error is %v", s, Equal(s, s), looseErr)
		}
		if looseErr == nil {
			if norm != loose.String() {
				t.Fatalf("Normalize(%q) = %q, want canonical %q", s, norm, loose.String())
			}
			if !Equal(s, loose.E164()+extensionSuffix(loose)) {
				t.Fatalf("%q is not Equal to its E.164 form %q", s, loose.E164())
			}
			if strings.Contains(masked, loose.National) {
				t.Fatalf("Mask(%q) = %q contains the whole national number", s, masked)
			}
		}

		n, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("Parse(String()) failed for %q: %v", s, err)
		}
		if diff := cmp.Diff(n, again); diff != "" {
			t.Fatalf("round trip of %q changed the number: -first, +second:\n%s", s, diff)
		}
		if e164, err := Parse(n.E164() + extensionSuffix(n)); err != nil || e164 != n {
			t.Fatalf("Parse(E164()) of %q = %+v, %v; want %+v", s, e164, err, n)
		}
		if norm != n.String() {
			t.Fatalf("Normalize(%q) = %q, want canonical %q", s, norm, n.String())
		}
	})
}

func extensionSuffix(n Number) string {
	if n.Extension == "" {
		return ""
	}
	return "x" + n.Extension
}
