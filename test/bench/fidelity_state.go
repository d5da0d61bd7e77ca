package bench

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// reasonReady is how a Ready object shows in the reason tables.
const reasonReady = "Ready (" + identityv1alpha1.ReasonSynced + ")"

// objectState is what an object's status says about where it ended.
type objectState struct {
	// current: the Ready condition is for the object's generation.
	current bool
	ready   bool
	stalled bool
	// reason is the Ready condition's reason ("" without one).
	reason  string
	handled string // status.lastHandledReconcileAt
}

func stateOf(p *identityv1alpha1.PhoneAuthMethod) objectState {
	s := objectState{handled: p.Status.LastHandledReconcileAt}
	c := meta.FindStatusCondition(p.Status.Conditions, identityv1alpha1.ConditionReady)
	if c == nil {
		return s
	}
	s.current = c.ObservedGeneration == p.Generation
	s.ready = c.Status == metav1.ConditionTrue
	s.reason = c.Reason
	s.stalled = meta.IsStatusConditionTrue(p.Status.Conditions, identityv1alpha1.ConditionStalled)
	return s
}

// label is the state as the reason tables show it.
func (s objectState) label() string {
	switch {
	case s.reason == "":
		return "(no Ready condition)"
	case s.ready:
		return reasonReady
	}
	return s.reason
}

// verdict is every object's state judged against its case.
type verdict struct {
	// final: every object is where it stays without a person or a slow retry: Ready,
	// Stalled, or an alternate waiting (MobileRequired) for a mobile that is not Ready.
	final    bool
	notFinal map[string]int // label → objects not final yet
	// waveNotFinal counts the objects not final by creation wave.
	waveNotFinal map[int]int
	// byRow counts the objects of each cases-table row by label.
	byRow map[string]map[string]int
	// byReason counts all objects by label.
	byReason map[string]int
	// unexpected counts, by "row → label", the objects that ended in a state their case does
	// not explain (see expected).
	unexpected map[string]int
	// ready and notUniqueKeys are the objects Ready and PhoneNumberNotUnique, by key.
	ready, notUniqueKeys map[string]bool
	// waiting counts the objects that wait for a later pass: PhoneNumberNotUnique after an
	// unsaved create, MobileRequired behind such a mobile.
	notUnique, mobileRequired int
	// unhandled: objects that have not handled the reconcile request asked for (if any).
	unhandled int
	total     int
}

// judge looks at the objects as the watch last saw them. handled, when not "", is the value
// of a reconcile request every object must have handled.
func judge(w fidelityWorkload, objs []identityv1alpha1.PhoneAuthMethod, handled string) verdict {
	v := verdict{final: true, notFinal: map[string]int{}, byRow: map[string]map[string]int{}, byReason: map[string]int{},
		unexpected: map[string]int{}, ready: map[string]bool{}, notUniqueKeys: map[string]bool{}, waveNotFinal: map[int]int{}}
	states := map[string]objectState{}
	for i := range objs {
		states[objs[i].Namespace+"/"+objs[i].Name] = stateOf(&objs[i])
	}
	for _, o := range w.objects {
		s, seen := states[o.key()]
		v.total++
		mobile := states[o.obj.Namespace+"/"+strings.TrimSuffix(o.obj.Name, "-"+lowerType(o.obj.Spec.PhoneType))+"-mobile"]
		final := seen && s.current && (s.ready || s.stalled ||
			s.reason == identityv1alpha1.ReasonMobileRequired && !(mobile.current && mobile.ready))
		if handled != "" && s.handled != handled {
			v.unhandled++
			final = false
		}
		if !final {
			v.final = false
			v.notFinal[s.label()]++
			v.waveNotFinal[o.wave]++
		}
		row := o.row()
		if v.byRow[row] == nil {
			v.byRow[row] = map[string]int{}
		}
		v.byRow[row][s.label()]++
		v.byReason[s.label()]++
		if s.ready {
			v.ready[o.key()] = true
		}
		switch s.reason {
		case identityv1alpha1.ReasonPhoneNumberNotUnique:
			v.notUnique++
			v.notUniqueKeys[o.key()] = true
		case identityv1alpha1.ReasonMobileRequired:
			v.mobileRequired++
		}
		if !expected(o, s, mobile) {
			v.unexpected[row+" → "+s.label()]++
		}
	}
	return v
}

// expected says whether an object's final state is the one its case allows: a masked user's
// phone NumberUnreadable (and nothing else); any other phone Ready, except that a create or
// number change Graph answered 409 phoneNumberNotUnique without saving leaves a mobile or
// alternate PhoneNumberNotUnique until its slow retry succeeds (the operator does not write that
// number again before), and an alternate whose mobile is not Ready waits for it
// (MobileRequired).
func expected(o fidelityObject, s objectState, mobile objectState) bool {
	if !s.current {
		return false
	}
	if o.masked {
		return !s.ready && s.reason == identityv1alpha1.ReasonNumberUnreadable
	}
	if s.ready {
		return true
	}
	t := o.obj.Spec.PhoneType
	switch s.reason {
	case identityv1alpha1.ReasonPhoneNumberNotUnique:
		return (o.c == caseMissing || o.c == caseDiffers) && t != identityv1alpha1.PhoneTypeOffice
	case identityv1alpha1.ReasonMobileRequired:
		return t == identityv1alpha1.PhoneTypeAlternateMobile && !(mobile.current && mobile.ready)
	}
	return false
}

// done counts the needed actions of the objects that ended Ready, by Graph operation.
func (v verdict) done(w fidelityWorkload) map[string]int {
	return w.needed(func(o fidelityObject) bool { return v.ready[o.key()] })
}

func (v verdict) unexpectedCount() int {
	n := 0
	for _, c := range v.unexpected {
		n += c
	}
	return n
}

// describe summarises counts by label for a message: "Ready (Synced) 12, MobileRequired 1".
func describe(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}
