package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		// expected outputs
		want    Number
		wantErr string // substring of the error; empty means success
	}{
		"a plain mobile number parses": {
			reason: "The documented example must be accepted.",
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
		"a three digit country code and the shortest national part parse": {
			reason: "Bounds are inclusive.",
			in:     "+358 1234",
			want:   Number{CountryCode: "358", National: "1234"},
		},
		"the longest national part and extension parse": {
			reason: "Bounds are inclusive.",
			in:     "+1 123456789012345x1234567890",
			want:   Number{CountryCode: "1", National: "123456789012345", Extension: "1234567890"},
		},
		"an empty string is rejected": {
			reason:  "Nothing to parse.",
			in:      "",
			wantErr: "empty",
		},
		"a number without plus is rejected": {
			reason:  "Graph requires the leading +.",
			in:      "1 5555551234",
			wantErr: "must start with +",
		},
		"a number without the space is rejected": {
			reason:  "The space after the country code is required.",
			in:      "+15555551234",
			wantErr: "one space",
		},
		"a country code starting with 0 is rejected": {
			reason:  "Country codes never start with 0.",
			in:      "+01 5555551234",
			wantErr: "must not start with 0",
		},
		"a four digit country code is rejected": {
			reason:  "Country codes have at most 3 digits.",
			in:      "+1234 5555551234",
			wantErr: "country code must be 1 to 3 digits",
		},
		"an empty country code is rejected": {
			reason:  "A country code is required.",
			in:      "+ 5555551234",
			wantErr: "country code must be 1 to 3 digits",
		},
		"a second space is rejected": {
			reason:  "Parse is strict; Normalize forgives spacing.",
			in:      "+1 206 5555554",
			wantErr: "exactly one space",
		},
		"a national part of three digits is rejected": {
			reason:  "At least 4 digits are required.",
			in:      "+1 123",
			wantErr: "4 to 15 digits",
		},
		"a national part of sixteen digits is rejected": {
			reason:  "At most 15 digits are allowed.",
			in:      "+1 1234567890123456",
			wantErr: "4 to 15 digits",
		},
		"a dash in the number is rejected": {
			reason:  "Only digits are allowed.",
			in:      "+1 206-555-5554",
			wantErr: "4 to 15 digits",
		},
		"an empty extension is rejected": {
			reason:  "x must be followed by digits.",
			in:      "+1 5555551234x",
			wantErr: "extension",
		},
		"an eleven digit extension is rejected": {
			reason:  "At most 10 extension digits.",
			in:      "+1 5555551234x12345678901",
			wantErr: "extension",
		},
		"non-ASCII digits are rejected": {
			reason:  "Graph accepts ASCII digits only.",
			in:      "+1 ٥٥٥٥٥٥١٢٣٤",
			wantErr: "4 to 15 digits",
		},
		"leading whitespace is rejected": {
			reason:  "Parse is strict; Normalize trims.",
			in:      " +1 5555551234",
			wantErr: "must start with +",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("%s\nParse(...): want error containing %q, got %+v", tc.reason, tc.wantErr, got)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s\nParse(...): want error containing %q, got %q", tc.reason, tc.wantErr, err)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%s\nParse(...): error %q does not wrap ErrInvalid", tc.reason, err)
				}
				assertNoDigitsOf(t, tc.in, err.Error())
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

// assertNoDigitsOf fails if msg contains the digits of in, so that errors
// provably do not echo the number.
func assertNoDigitsOf(t *testing.T, in, msg string) {
	t.Helper()
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, in)
	if len(digits) >= 4 && strings.Contains(strings.Map(keepDigits, msg), digits) {
		t.Errorf("error %q echoes the number's digits", msg)
	}
}

func keepDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

func TestString(t *testing.T) {
	cases := map[string]struct {
		in   Number
		want string
	}{
		"no extension":   {Number{"1", "2065555554", ""}, "+1 2065555554"},
		"with extension": {Number{"49", "301234567", "12"}, "+49 301234567x12"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("String(): want %q, got %q", tc.want, got)
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
			reason: "Normalize of canonical is itself.",
			in:     "+1 2065555554",
			want:   "+1 2065555554",
		},
		"spaces inside the national part are removed": {
			reason: "Graph may return numbers grouped with spaces.",
			in:     "+1 206 555 5554",
			want:   "+1 2065555554",
		},
		"surrounding and repeated whitespace is forgiven": {
			reason: "Whitespace does not change which phone rings.",
			in:     "  +1   206 5555554\t",
			want:   "+1 2065555554",
		},
		"upper-case X becomes lower-case x": {
			reason: "The case of x is irrelevant.",
			in:     "+1 2065555554X12",
			want:   "+1 2065555554x12",
		},
		"spaces around the extension are forgiven": {
			reason: "Grouping may reach into the extension.",
			in:     "+1 2065555554 X 12",
			want:   "+1 2065555554x12",
		},
		"an invalid number keeps its digits with whitespace collapsed": {
			reason: "Two invalid inputs must still compare deterministically.",
			in:     "  2065555554  ",
			want:   "2065555554",
		},
		"an empty string stays empty": {
			reason: "Nothing to normalise.",
			in:     "   ",
			want:   "",
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

func TestEqual(t *testing.T) {
	cases := map[string]struct {
		a, b string
		want bool
	}{
		"different spacing is equal":      {"+1 2065555554", "+1 206 555 5554", true},
		"case of x is equal":              {"+1 2065555554x1", "+1 2065555554X1", true},
		"different digits are not":        {"+1 2065555554", "+1 2065555555", false},
		"different country code is not":   {"+1 2065555554", "+44 2065555554", false},
		"an extension makes a difference": {"+1 2065555554", "+1 2065555554x1", false},
		"moving the country code boundary is not equal": {
			"+1 2065555554", "+12 065555554", false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Equal(tc.a, tc.b); got != tc.want {
				t.Errorf("Equal(%q, %q): want %v, got %v", tc.a, tc.b, tc.want, got)
			}
		})
	}
}

func TestMask(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"a mobile keeps country code and last three digits": {
			reason: "The documented example.",
			in:     "+1 2065555554",
			want:   "+1 *******554",
		},
		"the extension is masked in full": {
			reason: "An extension is shown as present but never revealed.",
			in:     "+1 2065555554x123",
			want:   "+1 *******554x***",
		},
		"a shortest number keeps three of four digits": {
			reason: "Still one digit masked.",
			in:     "+358 1234",
			want:   "+358 *234",
		},
		"a number with Graph spacing is masked canonically": {
			reason: "Mask accepts what Normalize forgives.",
			in:     " +1 206 555 5554 ",
			want:   "+1 *******554",
		},
		"an unparseable number is fully hidden": {
			reason: "Garbage may still contain a number; nothing of it is returned.",
			in:     "206-555-5554",
			want:   "***",
		},
		"an empty number is fully hidden": {
			reason: "No special case for empty input.",
			in:     "",
			want:   "***",
		},
		"text that is not a number is fully hidden": {
			reason: "Mask never returns its input unmasked.",
			in:     "hello",
			want:   "***",
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
		"+1 2065555554", "+1 5555551234x123", "+44 2071234567X9", "+358 1234",
		"+1 206 555 5554", " +1 2065555554 ", "+01 1234", "+1 123", "", "+", "x",
		"+1 123456789012345x1234567890", "+1234 5555", "206-555-5554", "+1 2065555554x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm := Normalize(s)
		if Normalize(norm) != norm {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", s, norm, Normalize(norm))
		}
		if !Equal(s, norm) {
			t.Fatalf("a string is not Equal to its normal form: %q vs %q", s, norm)
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

		n, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error does not wrap ErrInvalid: %v", s, err)
			}
			return
		}
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("Parse(String()) failed for %q: %v", s, err)
		}
		if diff := cmp.Diff(n, again); diff != "" {
			t.Fatalf("round trip of %q changed the number: -first, +second:\n%s", s, diff)
		}
		if norm != n.String() {
			t.Fatalf("Normalize(%q) = %q, want canonical %q", s, norm, n.String())
		}
		if strings.Contains(masked, n.National) {
			t.Fatalf("Mask(%q) = %q contains the whole national number", s, masked)
		}
	})
}
