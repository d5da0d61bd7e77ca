package graphemu_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graphemu"
)

func TestDurationJSON(t *testing.T) {
	for name, tc := range map[string]struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		"milliseconds":         {in: `"250ms"`, want: 250 * time.Millisecond},
		"compound":             {in: `"1m30s"`, want: 90 * time.Second},
		"zero":                 {in: `"0s"`},
		"empty string is zero": {in: `""`},
		"bare number refused":  {in: `250`, wantErr: true},
		"no unit refused":      {in: `"250"`, wantErr: true},
		"not a duration":       {in: `"soon"`, wantErr: true},
	} {
		t.Run(name, func(t *testing.T) {
			var d graphemu.Duration
			err := json.Unmarshal([]byte(tc.in), &d)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err == nil && time.Duration(d) != tc.want {
				t.Errorf("Unmarshal(%s) = %v, want %v", tc.in, time.Duration(d), tc.want)
			}
		})
	}
	for d, want := range map[time.Duration]string{
		250 * time.Millisecond: `"250ms"`,
		90 * time.Second:       `"1m30s"`,
		0:                      `"0s"`,
	} {
		got, err := json.Marshal(graphemu.Duration(d))
		if err != nil || string(got) != want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", d, got, err, want)
		}
	}
}

// TestFaultsJSON: Faults' durations travel as strings, unset ones are left
// out, every other field keeps its own encoding, and a bad numberFormat or
// duration is refused.
func TestFaultsJSON(t *testing.T) {
	f := graphemu.Faults{Latency: 250 * time.Millisecond, ReadLag: 5 * time.Second, Rate429: 0.5,
		RetryAfterSeconds: 2, NumberFormat: graphemu.NumberFormatNoSpace, MaskUsers: []string{"kim@contoso.com"}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"latency":"250ms","rate429":0.5,"retryAfterSeconds":2,"numberFormat":"nospace","readLag":"5s","maskUsers":["kim@contoso.com"]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	var back graphemu.Faults
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for name, in := range map[string]string{
		"unknown numberFormat": `{"numberFormat":"dotted"}`,
		"latency in numbers":   `{"latency":250}`,
		"jitter without unit":  `{"jitter":"5"}`,
	} {
		if err := json.Unmarshal([]byte(in), &back); err == nil {
			t.Errorf("%s: %s was accepted", name, in)
		}
	}
}
