package ownership

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// claimant is an object of namespace/name, created at minute created, claimed at minute
// claimed (negative: never), of phone type t.
func claimant(namespace, name string, created, claimed int, t identityv1alpha1.PhoneType) identityv1alpha1.PhoneAuthMethod {
	p := identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name,
		UID: types.UID(namespace + "/" + name), CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(created) * time.Minute))}}
	p.Spec.PhoneType = t
	if claimed >= 0 {
		at := metav1.NewTime(epoch.Add(time.Duration(claimed) * time.Minute))
		p.Status.ClaimedAt = &at
	}
	return p
}

func paused(p identityv1alpha1.PhoneAuthMethod) identityv1alpha1.PhoneAuthMethod {
	p.Annotations = map[string]string{identityv1alpha1.AnnotationPaused: "true"}
	return p
}

func TestOwner(t *testing.T) {
	const mobile, office = identityv1alpha1.PhoneTypeMobile, identityv1alpha1.PhoneTypeOffice
	grantedOnly := func(namespaces ...string) func(string) (bool, error) {
		return func(ns string) (bool, error) {
			for _, g := range namespaces {
				if g == ns {
					return true, nil
				}
			}
			return false, nil
		}
	}
	cases := map[string]struct {
		self      identityv1alpha1.PhoneAuthMethod
		others    []identityv1alpha1.PhoneAuthMethod
		granted   func(string) (bool, error)
		wantOwner string
	}{
		"alone, it owns its slot": {
			self: claimant("a", "kim", 5, -1, mobile), granted: grantedOnly("a"), wantOwner: "a/kim"},
		"an older unclaimed object wins over a newer one": {
			self: claimant("a", "new", 5, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{claimant("b", "old", 1, -1, mobile)},
			granted: grantedOnly("a", "b"), wantOwner: "b/old"},
		"a claim outranks age: a pre-dated object of a newly granted namespace does not take over": {
			self: claimant("late", "predated", 0, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{claimant("a", "owner", 10, 11, mobile)},
			granted: grantedOnly("a", "late"), wantOwner: "a/owner"},
		"the earlier claim wins between two claimed objects": {
			self: claimant("a", "first", 9, 2, mobile), others: []identityv1alpha1.PhoneAuthMethod{claimant("b", "second", 1, 3, mobile)},
			granted: grantedOnly("a", "b"), wantOwner: "a/first"},
		"an ungranted namespace neither owns nor blocks": {
			self: claimant("a", "kim", 5, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{claimant("rogue", "old", 1, 1, mobile)},
			granted: grantedOnly("a"), wantOwner: "a/kim"},
		"a paused object that never owned is squatting and holds nothing": {
			self: claimant("a", "kim", 5, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{paused(claimant("b", "squat", 1, -1, mobile))},
			granted: grantedOnly("a", "b"), wantOwner: "a/kim"},
		"a paused owner keeps its claim": {
			self: claimant("a", "kim", 5, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{paused(claimant("b", "owner", 1, 2, mobile))},
			granted: grantedOnly("a", "b"), wantOwner: "b/owner"},
		"another phone type is another slot": {
			self: claimant("a", "kim", 5, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{claimant("b", "desk", 1, 1, office)},
			granted: grantedOnly("a", "b"), wantOwner: "a/kim"},
		"ties break on namespace/name, the same for every claimant": {
			self: claimant("b", "kim", 1, -1, mobile), others: []identityv1alpha1.PhoneAuthMethod{claimant("a", "kim", 1, -1, mobile)},
			granted: grantedOnly("a", "b"), wantOwner: "a/kim"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			claimants := append([]identityv1alpha1.PhoneAuthMethod{tc.self}, tc.others...)
			owner, err := Owner(&tc.self, claimants, tc.granted)
			if err != nil {
				t.Fatal(err)
			}
			if got := owner.Namespace + "/" + owner.Name; got != tc.wantOwner {
				t.Errorf("owner = %s, want %s", got, tc.wantOwner)
			}
		})
	}
}

func TestOwnerReportsAGrantItCannotRead(t *testing.T) {
	self := claimant("a", "kim", 5, -1, identityv1alpha1.PhoneTypeMobile)
	other := claimant("b", "old", 1, -1, identityv1alpha1.PhoneTypeMobile)
	boom := errors.New("cache not synced")
	if _, err := Owner(&self, []identityv1alpha1.PhoneAuthMethod{other}, func(string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the grant's error (no owner decided on a grant nobody could read)", err)
	}
}

func TestConflictMessageNamesNoOtherNamespacesObject(t *testing.T) {
	self := claimant("team-a", "kim", 5, -1, identityv1alpha1.PhoneTypeMobile)
	sameNS := claimant("team-a", "kim-old", 1, 1, identityv1alpha1.PhoneTypeMobile)
	otherNS := claimant("customer-b", "secret-project-kim", 1, 1, identityv1alpha1.PhoneTypeMobile)
	if msg := ConflictMessage(&self, &sameNS); !strings.Contains(msg, "team-a/kim-old") {
		t.Errorf("same-namespace message %q should name the owner", msg)
	}
	if msg := ConflictMessage(&self, &otherNS); strings.Contains(msg, "customer-b") || strings.Contains(msg, "secret-project-kim") {
		t.Errorf("cross-namespace message %q names another namespace's object", msg)
	}
}
