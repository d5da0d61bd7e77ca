package plan

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeUser is one user's phone methods in a toy Graph that enforces the
// rules from graph-phone-methods.md that ordering depends on. A violated
// rule is returned as an error, so a wrong order fails the test.
type fakeUser struct {
	methods map[PhoneType]Method
}

func (u *fakeUser) observed(siblingAlternate bool) Observed {
	var o Observed
	for _, t := range []PhoneType{Mobile, AlternateMobile, Office} {
		if m, ok := u.methods[t]; ok {
			o.Methods = append(o.Methods, m)
		}
	}
	o.SiblingAlternateExists = siblingAlternate
	return o
}

func (u *fakeUser) apply(a Action) error {
	_, exists := u.methods[a.PhoneType]
	switch a.Kind {
	case Create:
		if exists {
			return fmt.Errorf("rule 1: %s already exists", a.PhoneType)
		}
		if _, hasMobile := u.methods[Mobile]; a.PhoneType == AlternateMobile && !hasMobile {
			return fmt.Errorf("rule 2: alternateMobile created without a mobile")
		}
		state := StateNotSupported
		if a.PhoneType == Mobile {
			state = StateNotEnabled // policy allows SMS; no auto-registration here
		}
		u.methods[a.PhoneType] = Method{ID: WellKnownMethodID(a.PhoneType), PhoneType: a.PhoneType, Number: a.Number, SMSSignInState: state}
	case Delete:
		if !exists {
			return fmt.Errorf("404: %s does not exist", a.PhoneType)
		}
		if _, hasAlt := u.methods[AlternateMobile]; a.PhoneType == Mobile && hasAlt {
			return fmt.Errorf("rule 2: mobile deleted while an alternateMobile exists")
		}
		delete(u.methods, a.PhoneType)
	case EnableSMS, DisableSMS:
		m, ok := u.methods[Mobile]
		if a.PhoneType != Mobile || !ok || a.MethodID != m.ID {
			return fmt.Errorf("rule 4/5: %s on %s %q", a.Kind, a.PhoneType, a.MethodID)
		}
		m.SMSSignInState = StateReady
		if a.Kind == DisableSMS {
			m.SMSSignInState = StateNotEnabled
		}
		u.methods[Mobile] = m
	default:
		return fmt.Errorf("unexpected action %s", a)
	}
	return nil
}

// converge plays reconcilers of objects, in the given (adversarial) order,
// pass after pass until every plan is up to date, and returns the writes
// in the order Graph saw them. An object being deleted disappears from the
// cluster once its plan is up to date (its finalizer is removed).
func converge(t *testing.T, u *fakeUser, objects []Desired) []string {
	t.Helper()
	var log []string
	present := make([]bool, len(objects))
	for i := range present {
		present[i] = true
	}
	for pass := 0; pass < 5; pass++ {
		settled := true
		for i, want := range objects {
			if !present[i] {
				continue
			}
			res := Plan(want, u.observed(siblingAlternate(objects, present)), global)
			for _, a := range res.Actions {
				if err := u.apply(a); err != nil {
					t.Fatalf("pass %d: applying %s: %v", pass, a, err)
				}
				log = append(log, a.String())
			}
			if !res.UpToDate() {
				settled = false
			} else if want.Deleting {
				present[i] = false
			}
		}
		if settled {
			return log
		}
	}
	t.Fatalf("objects did not converge in 5 passes; writes so far: %v", log)
	return nil
}

func siblingAlternate(objects []Desired, present []bool) bool {
	for i, o := range objects {
		if present[i] && o.PhoneType == AlternateMobile {
			return true
		}
	}
	return false
}

// TestOrdering runs whole plans against a rule-enforcing fake Graph, so a
// change that reorders writes (alternate before mobile, SMS before the
// number, mobile deleted before alternate) fails here.
func TestOrdering(t *testing.T) {
	u := &fakeUser{methods: map[PhoneType]Method{}}
	objects := []Desired{ // alternate first on purpose
		{PhoneType: AlternateMobile, Number: kimAlternate},
		{PhoneType: Office, Number: kimOffice},
		{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled},
	}
	wantCreate := []string{
		"Create office +1 *******100x***",
		"Create mobile +1 *******554",
		"EnableSMS mobile",
		"Create alternateMobile +1 *******212",
	}
	if diff := cmp.Diff(wantCreate, converge(t, u, objects)); diff != "" {
		t.Errorf("create order: -want, +got:\n%s", diff)
	}

	// Delete in the opposite adversarial order: mobile first.
	deleting := []Desired{
		{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled, Deleting: true},
		{PhoneType: Office, Number: kimOffice, Deleting: true},
		{PhoneType: AlternateMobile, Number: kimAlternate, Deleting: true},
	}
	wantDelete := []string{
		"Delete office +1 *******100x***",
		"Delete alternateMobile +1 *******212",
		"Delete mobile +1 *******554",
	}
	if diff := cmp.Diff(wantDelete, converge(t, u, deleting)); diff != "" {
		t.Errorf("delete order: -want, +got:\n%s", diff)
	}
	if len(u.methods) != 0 {
		t.Errorf("methods left after deletion: %v", u.methods)
	}
}

// TestOrderingWithinOnePlan pins the order inside a single plan: the number
// write always comes before any SMS action.
func TestOrderingWithinOnePlan(t *testing.T) {
	got := []Result{
		Plan(Desired{PhoneType: Mobile, Number: kimMobile, SMSSignIn: SMSEnabled}, observed(), global),
		Plan(Desired{PhoneType: Mobile, Number: kimNewMobile, SMSSignIn: SMSDisabled}, observed(mobile(kimMobile, StateReady)), global),
	}
	for _, res := range got {
		if len(res.Actions) != 2 {
			t.Fatalf("want a number write and an SMS action, got %v", res.Strings())
		}
		if k := res.Actions[0].Kind; k != Create && k != UpdateNumber {
			t.Errorf("first action is %s, want the number write: %v", k, res.Strings())
		}
		if k := res.Actions[1].Kind; k != EnableSMS && k != DisableSMS {
			t.Errorf("second action is %s, want the SMS action: %v", k, res.Strings())
		}
	}
}
