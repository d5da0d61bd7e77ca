package main

import (
	"bytes"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// faultFlags maps every Faults field to its flag, so a field added
// without a flag fails TestEveryFaultHasAFlag.
var faultFlags = map[string]string{
	"Latency": "latency", "Jitter": "jitter", "Rate429": "rate-429", "Rate5xx": "rate-5xx",
	"RateDrop": "rate-drop", "RateLostResponse": "rate-lost-response", "RetryAfterSeconds": "retry-after",
	"NumberFormat": "number-format", "ReadLag": "read-lag", "MaskNumbers": "mask-numbers",
	"MaskUsers": "mask-users", "RateNotUniqueUnsaved": "rate-not-unique-unsaved",
	"ShuffleLists": "shuffle-lists", "ExtraProperties": "extra-properties", "RateUnknownError": "rate-unknown-error",
}

func testFlags(t *testing.T, out io.Writer) (*config, *parsedFlags) {
	t.Helper()
	var c config
	fs := flag.NewFlagSet("graph-emulator", flag.ContinueOnError)
	fs.SetOutput(out)
	return &c, newFlagSet(&c, fs)
}

// TestEveryFaultHasAFlag: --help lists a flag for every Faults field.
func TestEveryFaultHasAFlag(t *testing.T) {
	var help bytes.Buffer
	_, p := testFlags(t, &help)
	p.fs.PrintDefaults()
	ft := reflect.TypeFor[graphemu.Faults]()
	for i := range ft.NumField() {
		name := ft.Field(i).Name
		fl, ok := faultFlags[name]
		if !ok {
			t.Errorf("Faults.%s has no flag in faultFlags", name)
			continue
		}
		if !strings.Contains(help.String(), "  -"+fl+" ") && !strings.Contains(help.String(), "  -"+fl+"\n") {
			t.Errorf("--help does not list -%s (Faults.%s)", fl, name)
		}
	}
}

// TestQuirkFlags: each quirk flag sets its Faults field.
func TestQuirkFlags(t *testing.T) {
	cases := map[string]struct {
		args []string
		want graphemu.Faults
	}{
		"none: all off":      {nil, graphemu.Faults{RetryAfterSeconds: 1}},
		"number format":      {[]string{"-number-format=nospace"}, graphemu.Faults{RetryAfterSeconds: 1, NumberFormat: graphemu.NumberFormatNoSpace}},
		"read lag":           {[]string{"-read-lag=5s"}, graphemu.Faults{RetryAfterSeconds: 1, ReadLag: 5 * time.Second}},
		"mask all":           {[]string{"-mask-numbers"}, graphemu.Faults{RetryAfterSeconds: 1, MaskNumbers: true}},
		"mask some, twice":   {[]string{"-mask-users=kim@contoso.com, lee@contoso.com", "-mask-users=6e7b"}, graphemu.Faults{RetryAfterSeconds: 1, MaskUsers: []string{"kim@contoso.com", "lee@contoso.com", "6e7b"}}},
		"unsaved 409s":       {[]string{"-rate-not-unique-unsaved=0.5"}, graphemu.Faults{RetryAfterSeconds: 1, RateNotUniqueUnsaved: 0.5}},
		"shuffle":            {[]string{"-shuffle-lists"}, graphemu.Faults{RetryAfterSeconds: 1, ShuffleLists: true}},
		"extra properties":   {[]string{"-extra-properties"}, graphemu.Faults{RetryAfterSeconds: 1, ExtraProperties: true}},
		"unknown errors":     {[]string{"-rate-unknown-error=0.1"}, graphemu.Faults{RetryAfterSeconds: 1, RateUnknownError: 0.1}},
		"with classic fault": {[]string{"-rate-429=0.2"}, graphemu.Faults{RetryAfterSeconds: 1, Rate429: 0.2}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, p := testFlags(t, io.Discard)
			if err := p.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, c.opts.Faults); d != "" {
				t.Fatalf("faults (-want +got):\n%s", d)
			}
		})
	}
}

func TestBadNumberFormatFlag(t *testing.T) {
	_, p := testFlags(t, io.Discard)
	if err := p.Parse([]string{"-number-format=fancy"}); err == nil {
		t.Fatal("an unknown number format was accepted")
	}
}

// TestDerivedOptions: -admin and -no-throttle set their options.
func TestDerivedOptions(t *testing.T) {
	c, p := testFlags(t, io.Discard)
	if err := p.Parse([]string{"-admin", "-no-throttle"}); err != nil {
		t.Fatal(err)
	}
	if !c.opts.EnableAdmin || !c.opts.DisableThrottling {
		t.Fatalf("options: %+v", c.opts)
	}
}

// TestRetirementFlags: -sms-sign-in-retired-at and -sms-sign-in-retirement-shape set the
// emulator's SMS sign-in retirement; a bad value is refused.
func TestRetirementFlags(t *testing.T) {
	c, p := testFlags(t, io.Discard)
	if err := p.Parse([]string{"-sms-sign-in-retired-at=2027-02-01", "-sms-sign-in-retirement-shape=notAllowedByPolicy"}); err != nil {
		t.Fatal(err)
	}
	want := graphemu.SMSSignInRetirement{At: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), Shape: graphemu.RetiredNotAllowedByPolicy}
	if got := c.opts.SMSSignInRetirement; !got.At.Equal(want.At) || got.Shape != want.Shape {
		t.Errorf("retirement %+v, want %+v", got, want)
	}
	for _, bad := range []string{"-sms-sign-in-retired-at=soon", "-sms-sign-in-retirement-shape=sometimes"} {
		_, p := testFlags(t, io.Discard)
		if err := p.Parse([]string{bad}); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
