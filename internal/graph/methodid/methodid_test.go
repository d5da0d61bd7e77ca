package methodid

import "testing"

func TestForPhoneType(t *testing.T) {
	for phoneType, want := range map[string]string{
		"mobile":          Mobile,
		"alternateMobile": AlternateMobile,
		"office":          Office,
		"Mobile":          "", // only Graph's spelling
		"":                "",
	} {
		if got := ForPhoneType(phoneType); got != want {
			t.Errorf("ForPhoneType(%q) = %q, want %q", phoneType, got, want)
		}
	}
}
