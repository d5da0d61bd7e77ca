package controllers

import (
	"testing"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
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

func TestPlannerReasonsMatchTheAPI(t *testing.T) {
	for api, planned := range map[string]string{
		identityv1alpha1.ReasonMobileRequired:        plan.ReasonMobileRequired,
		identityv1alpha1.ReasonAlternateMobileExists: plan.ReasonAlternateMobileExists,
		identityv1alpha1.ReasonSmsNotAllowedByPolicy: plan.ReasonSmsNotAllowedByPolicy,
		identityv1alpha1.ReasonPhoneNumberNotUnique:  plan.ReasonPhoneNumberNotUnique,
		identityv1alpha1.ReasonSmsSignInNotSupported: plan.ReasonSmsSignInNotSupported,
		identityv1alpha1.ReasonInvalidNumber:         plan.ReasonInvalidNumber,
	} {
		if api != planned {
			t.Errorf("API reason %q is %q in the planner", api, planned)
		}
	}
}
