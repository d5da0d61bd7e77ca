package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/phone"
)

func TestFidelityWorkloadHoldsTheCases(t *testing.T) {
	w := newFidelityWorkload(1000, Mix{AlternatePercent: 30, OfficePercent: 10}, 2, 1)
	if len(w.masked) != 20 || len(w.users) != 980 {
		t.Fatalf("%d masked and %d other users, want 20 and 980", len(w.masked), len(w.users))
	}
	mobiles := map[fidelityCase]int{}
	for _, o := range w.objects {
		if o.obj.Spec.PhoneType == identityv1alpha1.PhoneTypeMobile {
			mobiles[o.c]++
		}
		if o.masked != (o.obj.Namespace == maskedNamespace) || o.masked != (o.obj.Spec.TenantRef.Name == maskedTenantName) {
			t.Fatalf("%s: masked %v, but in namespace %s of tenant %s", o.key(), o.masked, o.obj.Namespace, o.obj.Spec.TenantRef.Name)
		}
		_, seeded := seededMethod(o.user, o.obj.Spec.PhoneType, o.c)
		if seeded == (o.c == caseMissing) {
			t.Errorf("%s (%s): seeded %v", o.key(), o.c, seeded)
		}
	}
	// The strides hold each percentage over all users; the masked users are taken out of
	// the others' cases, so those hold it within the 2 %.
	for c, want := range map[fidelityCase]int{caseMasked: 20, caseReformatted: 100, caseSMSOff: 50, caseDiffers: 100, caseMissing: 750} {
		if got := mobiles[c]; got < want-20 || got > want {
			t.Errorf("%d mobiles %q, want about %d", got, c, want)
		}
	}
	needed := w.needed(func(fidelityObject) bool { return true })
	missing := 0
	for _, o := range w.objects {
		if o.c == caseMissing {
			missing++
		}
	}
	if needed[opCreate] != missing || missing <= mobiles[caseMissing] {
		t.Errorf("needed %v, want one create per missing phone (%d, of which %d mobiles)", needed, missing, mobiles[caseMissing])
	}
	if needed[opUpdate] != mobiles[caseDiffers] || needed[opEnable] != mobiles[caseSMSOff] {
		t.Errorf("needed %v, want %d updates and %d enables", needed, mobiles[caseDiffers], mobiles[caseSMSOff])
	}
	for _, u := range w.masked {
		if len(w.seeded[u.id]) == 0 {
			t.Errorf("masked user %d has no seeded phone: masking would not matter", u.index)
		}
	}
}

// The numbers must be what they stand for: German mobiles (not fixed lines, which would add a
// FixedLine condition), the other forms the same number as phoneop compares them, the other
// and drift numbers different ones.
func TestFidelityNumbers(t *testing.T) {
	for _, i := range []int{0, 1, 17, 999, 99999} {
		u := newUser(i)
		u.german = true
		for _, typ := range []identityv1alpha1.PhoneType{identityv1alpha1.PhoneTypeMobile, identityv1alpha1.PhoneTypeAlternateMobile, identityv1alpha1.PhoneTypeOffice} {
			n, err := phone.Parse(u.number(typ))
			if err != nil || phone.CheckRegion(n) != nil {
				t.Fatalf("user %d %s: not a valid German number (%v)", i, typ, err)
			}
			if fixed := phone.IsFixedLine(n); fixed != (typ == identityv1alpha1.PhoneTypeOffice) {
				t.Errorf("user %d %s: fixed line %v", i, typ, fixed)
			}
		}
		mobile := u.number(identityv1alpha1.PhoneTypeMobile)
		for k := range 3 {
			form := otherForm(mobile, k)
			if form == mobile || !phone.Equal(form, mobile) {
				t.Errorf("user %d: form %d is not the same number written another way", i, k)
			}
		}
		if phone.Equal(u.otherNumber(), mobile) || phone.Equal(u.driftNumber(), mobile) || phone.Equal(u.otherNumber(), u.driftNumber()) {
			t.Errorf("user %d: the other and drift numbers must differ from the mobile and each other", i)
		}
	}
}

func TestJudgeAllowsOnlyTheReasonOfTheCase(t *testing.T) {
	w := newFidelityWorkload(200, Mix{AlternatePercent: 100}, 2, 1)
	find := func(masked bool, c fidelityCase, typ identityv1alpha1.PhoneType) fidelityObject {
		for _, o := range w.objects {
			if o.masked == masked && o.c == c && o.obj.Spec.PhoneType == typ {
				return o
			}
		}
		t.Fatalf("no object of case %q, type %s", c, typ)
		return fidelityObject{}
	}
	status := func(o fidelityObject, ready bool, reason string, stalled bool) identityv1alpha1.PhoneAuthMethod {
		p := *o.obj.DeepCopy()
		p.Generation = 1
		st := metav1.ConditionFalse
		if ready {
			st = metav1.ConditionTrue
		}
		p.Status.Conditions = []metav1.Condition{{Type: identityv1alpha1.ConditionReady, Status: st, Reason: reason, ObservedGeneration: 1}}
		if stalled {
			p.Status.Conditions = append(p.Status.Conditions, metav1.Condition{Type: identityv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, ObservedGeneration: 1})
		}
		return p
	}
	mobile := find(false, caseMissing, identityv1alpha1.PhoneTypeMobile)
	var alternate fidelityObject
	for _, o := range w.objects {
		if o.user.index == mobile.user.index && o.obj.Spec.PhoneType == identityv1alpha1.PhoneTypeAlternateMobile {
			alternate = o
		}
	}
	masked := find(true, caseMasked, identityv1alpha1.PhoneTypeMobile)
	differs := find(false, caseDiffers, identityv1alpha1.PhoneTypeMobile)
	cases := map[string]struct {
		objs       []identityv1alpha1.PhoneAuthMethod
		unexpected int
	}{
		"an unsaved create's mobile, its alternate waiting": {[]identityv1alpha1.PhoneAuthMethod{
			status(mobile, false, identityv1alpha1.ReasonPhoneNumberNotUnique, true),
			status(alternate, false, identityv1alpha1.ReasonMobileRequired, false)}, 0},
		"an alternate waiting for a mobile that is Ready": {[]identityv1alpha1.PhoneAuthMethod{
			status(mobile, true, identityv1alpha1.ReasonSynced, false),
			status(alternate, false, identityv1alpha1.ReasonMobileRequired, false)}, 1},
		"a masked phone NumberUnreadable": {[]identityv1alpha1.PhoneAuthMethod{status(masked, false, identityv1alpha1.ReasonNumberUnreadable, true)}, 0},
		"a masked phone Ready":            {[]identityv1alpha1.PhoneAuthMethod{status(masked, true, identityv1alpha1.ReasonSynced, false)}, 1},
		"a number update stalled on WriteNotReflected": {[]identityv1alpha1.PhoneAuthMethod{
			status(differs, false, identityv1alpha1.ReasonWriteNotReflected, true)}, 1},
		"a number update PhoneNumberNotUnique (a PATCH Graph refused without saving waits for its slow retry)": {[]identityv1alpha1.PhoneAuthMethod{
			status(differs, false, identityv1alpha1.ReasonPhoneNumberNotUnique, true)}, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			v := judge(w, c.objs, "")
			if v.final {
				t.Errorf("judged final although most objects were never seen")
			}
			if got := v.unexpectedCount() - (len(w.objects) - len(c.objs)); got != c.unexpected {
				t.Errorf("%d unexpected states among the given objects (%v), want %d", got, v.unexpected, c.unexpected)
			}
		})
	}
}

// TestFidelity runs the operator against the emulator behaving as Graph is observed to (every
// stored number reformatted, in three waves of nospace, trunk and spaced; reads lagging writes
// by 5 s; unsaved 409 conflicts; shuffled lists with extra properties; masked numbers for some
// users) and checks, from the emulator's per-tenant counts and the objects' conditions, that:
// every object ends Ready or with the reason of its case; Graph writes per needed action done
// are at most 1 (the injected 409s, one per pass of an object left PhoneNumberNotUnique, not
// counted); a masked user's phone is never written; and one more pass of every object once the
// lag has passed (the stand-in for the resync and the slow retry) writes nothing but the one
// create of each object left PhoneNumberNotUnique (and of its alternate). Nothing here is timed:
// waits poll the objects and the counts, with timeouts.
func TestFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the control plane and the manager")
	}
	ctrllog.SetLogger(logr.Discard()) // the watch's client-go logs; the manager logs to its file
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := RunFidelity(ctx, Config{N: 60, Mix: Mix{AlternatePercent: 30, OfficePercent: 10},
		Latency: 2 * time.Millisecond, SkipSteadyState: true, SkipDrift: true, ReadyTimeout: time.Minute, Logf: t.Logf,
		Fidelity: Fidelity{NumberFormats: []graphemu.NumberFormat{graphemu.NumberFormatNoSpace, graphemu.NumberFormatTrunk, graphemu.NumberFormatSpaced},
			// 5 s, the low end of the 5-10 s callers wait in production, rather than the
			// bench's 10 s: the run waits the lag out once (before the forced re-read, which
			// must see what Graph stored), and that wait is the largest part of the test. What
			// the lag tests, reads right after a write that still show the state before it,
			// within the manager's 15 s settle window, is the same for any lag below it.
			ReadLag: 5 * time.Second,
			// 10 % rather than the bench's 5 %: with ~80 mobile and alternate creates, 5 % would
			// leave a run without any conflict now and then. The masked users are 4 of 60.
			UnsavedRate: 0.1, MaskedPercent: 5, Reread: true}})
	if err != nil {
		t.Fatal(err)
	}
	md := res.Markdown("go test")
	t.Logf("\n%s", md)
	for key, n := range res.final.unexpected {
		t.Errorf("%d objects ended %s", n, key)
	}
	if len(res.workload.masked) == 0 || res.final.byRow[string(caseMasked)][identityv1alpha1.ReasonNumberUnreadable] != len(objectsOf(res.workload, true)) {
		t.Errorf("masked users' phones: %v, want every one of %d NumberUnreadable", res.final.byRow[string(caseMasked)], len(objectsOf(res.workload, true)))
	}
	writes, done, ratio := res.WritesPerAction()
	if done == 0 || writes > done {
		t.Errorf("%d Graph writes (the injected 409s not counted) for %d needed actions done (%.3f per action), want at most one each: %v (injected %v)",
			writes, done, ratio, res.onboarding.main.calls, res.onboarding.main.injected)
	}
	// The target as defined: every write request counts, except the one create per later
	// pass (here the forced one) of each object left PhoneNumberNotUnique.
	all, allowed, attempted, excess, strict := res.Strict()
	if attempted == 0 || excess > 0 {
		att := res.attempted()
		t.Errorf("%.3f Graph writes per needed action, want at most 1: %d write requests − %d allowed retries for %d needed actions attempted, %d too many "+
			"(creates %d of which %d injected 409s, for %d attempted; updates %d of which %d injected, for %d). "+
			"An operator bug, not a test bug (docs/benchmarks/fidelity.md, \"What the fidelity runs found\"): extra creates are retries of objects left "+
			"PhoneNumberNotUnique before their slow retry, in a new pass a sibling's event started; extra updates are number updates repeated in "+
			"the same pass after a 409 that did not save",
			strict, all, allowed, attempted, excess,
			res.onboarding.main.calls[opCreate], res.onboarding.main.injected[opCreate], att[opCreate],
			res.onboarding.main.calls[opUpdate], res.onboarding.main.injected[opUpdate], att[opUpdate])
	}
	if masked, changed := res.MaskedWrites(); masked != 0 || changed != 0 {
		t.Errorf("%d write requests to masked users, %d of their methods changed; want none", masked, changed)
	}
	// Each object left PhoneNumberNotUnique is an injected 409 on its last create or number update.
	if inj := res.onboarding.main.injected[opCreate] + res.onboarding.main.injected[opUpdate]; res.final.notUnique > inj {
		t.Errorf("%d objects PhoneNumberNotUnique, but only %d creates and updates were answered 409 without saving", res.final.notUnique, inj)
	}
	reread, ok := res.phase("forced re-read")
	if !ok {
		t.Fatal("no forced re-read phase")
	}
	m := reread.ops.main
	if others := m.allWrites() - m.calls[opCreate]; others != 0 {
		t.Errorf("the pass after the lag wrote %d times besides creates (%v): a stored form or a stale read was taken for drift", others, m.calls)
	}
	if creates, most := m.calls[opCreate], res.rereadNotUnique+res.rereadMobileRequired; creates > most {
		t.Errorf("the pass after the lag created %d times, but only %d objects waited (%d PhoneNumberNotUnique, %d MobileRequired): "+
			"an object was retried twice, by the forced pass and by a sibling's Ready flip",
			creates, most, res.rereadNotUnique, res.rereadMobileRequired)
	}
	for _, u := range append(append([]user{}, res.workload.users...), res.workload.masked...) {
		for _, number := range []string{u.number(identityv1alpha1.PhoneTypeMobile), u.otherNumber(), u.driftNumber()} {
			for _, form := range []string{number, strings.ReplaceAll(number, " ", ""), otherForm(number, 1), otherForm(number, 2)} {
				if strings.Contains(md, form) {
					t.Fatalf("the report shows a phone number")
				}
			}
		}
	}
}

func objectsOf(w fidelityWorkload, masked bool) []fidelityObject {
	var out []fidelityObject
	for _, o := range w.objects {
		if o.masked == masked {
			out = append(out, o)
		}
	}
	return out
}

func TestFidelityBlocksKeepTheirPlace(t *testing.T) {
	doc := "# B\n\n<!-- bench results end -->\n\n## Fidelity\n\n" + FidelityAnchor + "\n\n## Scaling\n"
	doc = replaceKeyedBlock(doc, "fidelity N=1000 trunk", FidelityAnchor, "run one")
	doc = replaceKeyedBlock(doc, "fidelity N=1000 nospace", FidelityAnchor, "other run")
	doc = replaceKeyedBlock(doc, "fidelity N=1000 trunk", FidelityAnchor, "run two")
	doc = replaceBlock(doc, 1000, "classic")
	if strings.Contains(doc, "run one") || strings.Count(doc, "run two") != 1 || strings.Count(doc, "other run") != 1 {
		t.Fatalf("a rerun must replace its own block only:\n%s", doc)
	}
	classic, fidelity, anchor := strings.Index(doc, "classic"), strings.Index(doc, "## Fidelity"), strings.Index(doc, FidelityAnchor)
	if !(classic < fidelity && fidelity < strings.Index(doc, "run two") && strings.Index(doc, "other run") < anchor) || !strings.HasSuffix(doc, "## Scaling\n") {
		t.Errorf("blocks out of place:\n%s", doc)
	}
}
