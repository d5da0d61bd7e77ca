package controllers

import (
	"testing"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/gosource"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
)

// The API, the Graph client and the planner each name clouds, phone types and reasons in their
// own package (the API must not import internal packages, the planner must stay pure); the
// reconciler converts between them by value. These tests pin the values equal, so renaming one
// side cannot silently break the conversion.

func TestCloudNamesMatchTheGraphClient(t *testing.T) {
	for api, client := range map[identityv1alpha1.Cloud]graph.Cloud{
		identityv1alpha1.CloudGlobal:   graph.CloudGlobal,
		identityv1alpha1.CloudUSGov:    graph.CloudUSGov,
		identityv1alpha1.CloudUSGovDoD: graph.CloudUSGovDoD,
		identityv1alpha1.CloudChina:    graph.CloudChina,
		identityv1alpha1.CloudCustom:   graph.CloudCustom,
	} {
		if string(api) != string(client) {
			t.Errorf("API cloud %q is %q in the Graph client", api, client)
		}
	}
}

func TestPhoneTypesMatchThePlanner(t *testing.T) {
	for api, planned := range map[identityv1alpha1.PhoneType]plan.PhoneType{
		identityv1alpha1.PhoneTypeMobile:          plan.Mobile,
		identityv1alpha1.PhoneTypeAlternateMobile: plan.AlternateMobile,
		identityv1alpha1.PhoneTypeOffice:          plan.Office,
	} {
		if string(api) != string(planned) {
			t.Errorf("API phone type %q is %q in the planner", api, planned)
		}
	}
	for api, planned := range map[identityv1alpha1.SMSSignIn]plan.SMSSignIn{
		identityv1alpha1.SMSSignInEnabled:  plan.SMSEnabled,
		identityv1alpha1.SMSSignInDisabled: plan.SMSDisabled,
	} {
		if string(api) != string(planned) {
			t.Errorf("API smsSignIn %q is %q in the planner", api, planned)
		}
	}
}

// TestPlannerReasonsMatchTheAPI: every reason the planner declares has an API constant of the
// same name and value, read from both packages' declarations so that a new planner reason
// cannot be forgotten here. (test/manifests checks each has a troubleshooting row, and
// internal/plan that each has a kind.)
func TestPlannerReasonsMatchTheAPI(t *testing.T) {
	api := reasonConstants(t, "../api/v1alpha1/conditions.go")
	for name, value := range reasonConstants(t, "../internal/plan/reasons.go") {
		if got, ok := api[name]; !ok || got != value {
			t.Errorf("planner reason %s = %q has no API constant %s with that value in api/v1alpha1 (got %q)", name, value, name, got)
		}
	}
}

// TestEveryActionKindIsAppliable: each action the planner can emit has a Graph write whose event
// reason is an API constant.
func TestEveryActionKindIsAppliable(t *testing.T) {
	apiValues := map[string]bool{}
	for _, v := range reasonConstants(t, "../api/v1alpha1/conditions.go") {
		apiValues[v] = true
	}
	for _, k := range plan.ActionKinds {
		w, ok := graphWrites[k]
		if !ok || w.call == nil {
			t.Errorf("plan action %s has no Graph write in graphWrites", k)
			continue
		}
		if !apiValues[w.event] {
			t.Errorf("plan action %s records event reason %q, which is not an API constant", k, w.event)
		}
	}
}

// reasonConstants returns name → value of every string constant named Reason* in a Go file.
func reasonConstants(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := gosource.StringConstants(path, "Reason")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
