// Package smsretirement says when Microsoft retires SMS sign-in in each cloud: the value of the
// manager's --sms-sign-in-retirement flag (Helm smsSignInRetirement), parsed and defaulted
// here. Why a flag: the date is Microsoft's and may move, and a national cloud may follow later.
// What the date means for an object (a warning before it, no enable call from it on) is the
// planner's decision (internal/plan); the controllers only pass the date of the object's cloud.
package smsretirement

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/plan"
)

// Schedule is when Microsoft retires SMS sign-in in each cloud (EntraTenant
// spec.cloud); a cloud without an entry has no retirement. It is the value of the manager's
// --sms-sign-in-retirement flag (Helm smsSignInRetirement), because the date is Microsoft's and
// may move.
type Schedule map[identityv1alpha1.Cloud]time.Time

// Default is Microsoft's announcement: the public cloud on 2027-02-01;
// national clouds are not in this retirement (and China never had SMS sign-in management).
func Default() Schedule {
	return Schedule{identityv1alpha1.CloudGlobal: plan.PublicCloudSMSSignInRetirement}
}

// For returns when SMS sign-in retires in cloud ("" is Global); zero means never.
func (s Schedule) For(cloud identityv1alpha1.Cloud) time.Time {
	if cloud == "" {
		cloud = identityv1alpha1.CloudGlobal
	}
	return s[cloud]
}

// cloudAliases are the names the flag accepts besides the API's own: "Public" is how
// Microsoft's retirement pages name the Global cloud.
var cloudAliases = map[string]identityv1alpha1.Cloud{"public": identityv1alpha1.CloudGlobal}

// knownClouds are the API's clouds, for parsing and messages.
var knownClouds = []identityv1alpha1.Cloud{identityv1alpha1.CloudGlobal, identityv1alpha1.CloudUSGov,
	identityv1alpha1.CloudUSGovDoD, identityv1alpha1.CloudChina, identityv1alpha1.CloudCustom}

// Parse reads the flag's value:
//   - "" or "never": no retirement anywhere;
//   - a date (2027-02-01, midnight UTC) or an RFC 3339 instant: the public cloud's, and none
//     elsewhere;
//   - comma-separated cloud=date pairs (Global=2027-02-01,USGov=2027-09-01; "Public" names
//     Global; a date of "never" leaves the cloud out): exactly those clouds.
func Parse(v string) (Schedule, error) {
	out := Schedule{}
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "never") {
		return out, nil
	}
	if !strings.Contains(v, "=") {
		at, err := parseRetirementInstant(v)
		if err != nil {
			return nil, err
		}
		out[identityv1alpha1.CloudGlobal] = at
		return out, nil
	}
	for _, pair := range strings.Split(v, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return nil, fmt.Errorf("--sms-sign-in-retirement: %q is not cloud=date (e.g. Global=2027-02-01)", pair)
		}
		cloud, err := cloudNamed(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		if _, dup := out[cloud]; dup {
			return nil, fmt.Errorf("--sms-sign-in-retirement names cloud %s twice", cloud)
		}
		if strings.EqualFold(strings.TrimSpace(value), "never") {
			continue
		}
		at, err := parseRetirementInstant(value)
		if err != nil {
			return nil, err
		}
		out[cloud] = at
	}
	return out, nil
}

// cloudNamed finds an API cloud by name or alias, case-insensitively.
func cloudNamed(name string) (identityv1alpha1.Cloud, error) {
	if c, ok := cloudAliases[strings.ToLower(name)]; ok {
		return c, nil
	}
	for _, c := range knownClouds {
		if strings.EqualFold(string(c), name) {
			return c, nil
		}
	}
	return "", fmt.Errorf("--sms-sign-in-retirement: unknown cloud %q (want one of Global (or Public), USGov, USGovDoD, China, Custom)", name)
}

// parseRetirementInstant reads a date (midnight UTC) or an RFC 3339 instant.
func parseRetirementInstant(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if at, err := time.Parse(time.DateOnly, v); err == nil {
		return at, nil
	}
	if at, err := time.Parse(time.RFC3339, v); err == nil {
		return at, nil
	}
	return time.Time{}, fmt.Errorf("--sms-sign-in-retirement: %q is neither a date (2027-02-01) nor an RFC 3339 instant, nor \"never\"", v)
}

// String writes the value back in the flag's syntax, clouds in a fixed order ("never" when
// empty).
func (s Schedule) String() string {
	if len(s) == 0 {
		return "never"
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(s)) {
		parts = append(parts, string(c)+"="+plan.FormatRetirement(s[c]))
	}
	return strings.Join(parts, ",")
}

// Flag is a flag.Value that fills a Schedule.
type Flag struct{ Value *Schedule }

// String implements flag.Value.
func (f Flag) String() string {
	if f.Value == nil {
		return ""
	}
	return f.Value.String()
}

// Set implements flag.Value.
func (f Flag) Set(v string) error {
	parsed, err := Parse(v)
	if err != nil {
		return err
	}
	*f.Value = parsed
	return nil
}
