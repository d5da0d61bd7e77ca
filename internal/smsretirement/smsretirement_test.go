package smsretirement

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func TestParseSMSSignInRetirement(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	cases := map[string]struct {
		in      string
		want    Schedule
		wantErr bool
	}{
		"empty disables":           {in: "", want: Schedule{}},
		"never disables":           {in: "Never", want: Schedule{}},
		"a bare date is public's":  {in: "2027-02-01", want: Schedule{identityv1alpha1.CloudGlobal: day(2027, 2, 1)}},
		"an instant is kept whole": {in: "2027-02-01T06:00:00Z", want: Schedule{identityv1alpha1.CloudGlobal: day(2027, 2, 1).Add(6 * time.Hour)}},
		"per cloud, Public is Global": {in: "Public=2027-03-01, usgov=2027-09-01",
			want: Schedule{identityv1alpha1.CloudGlobal: day(2027, 3, 1), identityv1alpha1.CloudUSGov: day(2027, 9, 1)}},
		"never leaves a cloud out": {in: "Global=never,Custom=2030-01-01", want: Schedule{identityv1alpha1.CloudCustom: day(2030, 1, 1)}},
		"an unknown cloud fails":   {in: "Mars=2027-02-01", wantErr: true},
		"a bad date fails":         {in: "Global=February", wantErr: true},
		"a bare bad date fails":    {in: "soon", wantErr: true},
		"a cloud twice fails":      {in: "Global=2027-02-01,Public=2027-03-01", wantErr: true},
		"a pair without = fails":   {in: "Global=2027-02-01,USGov", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

// TestSMSSignInRetirementDefaultsToMicrosoftsDate: the flag's default is the public cloud's
// announced date and nothing elsewhere, and it survives a round trip through the flag syntax.
func TestSMSSignInRetirementDefaultsToMicrosoftsDate(t *testing.T) {
	d := Default()
	if got := d.For(""); !got.Equal(time.Date(2027, time.February, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the public cloud retires on %v, want 2027-02-01", got)
	}
	for _, c := range []identityv1alpha1.Cloud{identityv1alpha1.CloudUSGov, identityv1alpha1.CloudUSGovDoD, identityv1alpha1.CloudChina, identityv1alpha1.CloudCustom} {
		if got := d.For(c); !got.IsZero() {
			t.Errorf("%s retires on %v by default, want never", c, got)
		}
	}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	v := Default()
	fs.Var(Flag{Value: &v}, "sms-sign-in-retirement", "")
	if err := fs.Parse([]string{"--sms-sign-in-retirement=" + d.String()}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, v); diff != "" {
		t.Errorf("round trip of %q: -want +got:\n%s", d.String(), diff)
	}
	if err := fs.Parse([]string{"--sms-sign-in-retirement=never"}); err != nil || len(v) != 0 {
		t.Errorf("never: %v, %v", v, err)
	}
}
