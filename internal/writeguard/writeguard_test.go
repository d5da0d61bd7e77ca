package writeguard

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func guardedObject(uid types.UID) *identityv1alpha1.PhoneAuthMethod {
	return &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "kim-mobile", UID: uid, Generation: 1}}
}

// TestANewObjectOfTheSameNameDoesNotInheritTheWriteRecord: records are kept by name for the
// deletion that phoneop does not see, but belong to one object (UID).
func TestANewObjectOfTheSameNameDoesNotInheritTheWriteRecord(t *testing.T) {
	var g Guard
	g.Remember(guardedObject("first"), identityv1alpha1.WriteGuardStatus{Generation: 1, Writes: []string{"Create mobile"}})
	if got := g.Load(guardedObject("first")).Writes; len(got) != 1 {
		t.Fatalf("the object's own record = %v, want its write", got)
	}
	if got := g.Load(guardedObject("second")).Writes; len(got) != 0 {
		t.Errorf("a new object of the same name loaded %v, want nothing", got)
	}
}

// TestTheRecordIsTheUnionOfStatusAndMemory: a pass that starts from a cached object older than
// the last status write still sees the writes memory kept, and a restarted process (empty
// memory) sees what status kept; a record of an older generation counts for nothing.
func TestTheRecordIsTheUnionOfStatusAndMemory(t *testing.T) {
	refused := metav1.NewTime(metav1.Now().Add(-1))
	pam := guardedObject("one")
	pam.Status.WriteGuard = &identityv1alpha1.WriteGuardStatus{Generation: 1, Writes: []string{"from status"}, NumberRefusedAt: &refused}

	var g Guard
	g.Remember(pam, identityv1alpha1.WriteGuardStatus{Generation: 1, Writes: []string{"from memory", "from status"}})
	rec := g.Load(pam)
	if len(rec.Writes) != 2 || rec.NumberRefusedAt == nil {
		t.Errorf("union = %+v, want both writes once and the refusal", rec)
	}
	if !RefusedSince(rec, refused.Add(-1)) || RefusedSince(rec, refused.Time) {
		t.Errorf("RefusedSince around the refusal at %v is wrong", refused)
	}

	pam.Generation = 2
	if got := g.Load(pam); len(got.Writes) != 0 || got.NumberRefusedAt != nil || got.Generation != 2 {
		t.Errorf("a new generation loaded %+v, want an empty record of generation 2", got)
	}
}

// TestARecordKeepsTheNewestWrites: an object that never converges cannot grow its record past
// the CRD's bound.
func TestARecordKeepsTheNewestWrites(t *testing.T) {
	var writes []string
	for i := range maxGuardedWrites + 5 {
		writes = withWrite(writes, string(rune('a'+i)))
	}
	if len(writes) != maxGuardedWrites || writes[len(writes)-1] != string(rune('a'+maxGuardedWrites+4)) {
		t.Errorf("writes = %v, want the newest %d", writes, maxGuardedWrites)
	}
}
