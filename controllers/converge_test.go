package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/observe"
	"github.com/phoneop/phoneop/internal/plan"
	"github.com/phoneop/phoneop/internal/tenantconn"
	"github.com/phoneop/phoneop/internal/usercache"
	"github.com/phoneop/phoneop/internal/writeguard"
)

// The TestUnit* tests drive converge and apply against graphtest.FakeAPI: no control plane and
// no HTTP, so they run in milliseconds (`go test ./controllers -run Unit`). Behaviour against a
// real API server and the emulator over HTTPS is covered by the envtest tests.

const (
	unitUserID    = "00000000-0000-4000-8000-0000000000aa"
	unitOldNumber = "+1 2065550100"
	unitNewNumber = "+1 2065550199"
)

// phoneBook is a user's phone methods as a fake Graph holds them; the fake's funcs read and
// change it the way Graph does (fixed method ids, SMS sign-in registered for a new mobile).
type phoneBook struct {
	mu      sync.Mutex
	methods map[string]graph.PhoneMethod // by phone type
}

func newPhoneBook(methods ...graph.PhoneMethod) *phoneBook {
	b := &phoneBook{methods: map[string]graph.PhoneMethod{}}
	for _, m := range methods {
		b.methods[m.PhoneType] = m
	}
	return b
}

func (b *phoneBook) list(context.Context, string) ([]graph.PhoneMethod, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]graph.PhoneMethod, 0, len(b.methods))
	for _, t := range []string{"mobile", "alternateMobile", "office"} {
		if m, ok := b.methods[t]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// save stores a number as Graph does: a mobile's SMS sign-in is registered by Graph itself.
func (b *phoneBook) save(phoneType, number string) graph.PhoneMethod {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := graph.PhoneMethod{ID: plan.WellKnownMethodID(plan.PhoneType(phoneType)), PhoneType: phoneType, PhoneNumber: number, SMSSignInState: "notSupported"}
	if phoneType == "mobile" {
		m.SMSSignInState = "ready"
	}
	b.methods[phoneType] = m
	return m
}

func (b *phoneBook) get(phoneType string) (graph.PhoneMethod, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.methods[phoneType]
	return m, ok
}

// fakeGraph returns a FakeAPI backed by book, with every read and write Graph offers; tests
// override the funcs whose behaviour they are about.
func fakeGraph(book *phoneBook) *graphtest.FakeAPI {
	return &graphtest.FakeAPI{
		ListPhoneMethodsFunc: book.list,
		CreatePhoneMethodFunc: func(_ context.Context, _, phoneType, number string) (graph.PhoneMethod, error) {
			return book.save(phoneType, number), nil
		},
		UpdatePhoneNumberFunc: func(_ context.Context, _, methodID, _, number string) error {
			for _, t := range []string{"mobile", "alternateMobile", "office"} {
				if m, ok := book.get(t); ok && m.ID == methodID {
					book.save(t, number)
				}
			}
			return nil
		},
		DeletePhoneMethodFunc: func(context.Context, string, string) error { return nil },
		EnableSMSSignInFunc:   func(context.Context, string, string) error { return nil },
		DisableSMSSignInFunc:  func(context.Context, string, string) error { return nil },
	}
}

// unitWorld is one reconciler and one object's scope, wired to a fake Graph.
type unitWorld struct {
	r      *PhoneAuthMethodReconciler
	api    *graphtest.FakeAPI
	events *events.FakeRecorder
	s      *scope
}

func newUnitWorld(api *graphtest.FakeAPI, mutate ...func(*identityv1alpha1.PhoneAuthMethod)) *unitWorld {
	sms := identityv1alpha1.SMSSignInEnabled
	pam := &identityv1alpha1.PhoneAuthMethod{
		ObjectMeta: metav1.ObjectMeta{Name: "kim-mobile", Namespace: "team", Generation: 1},
		Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
			User: "kim@contoso.com", PhoneType: identityv1alpha1.PhoneTypeMobile, PhoneNumber: unitNewNumber, SMSSignIn: &sms,
			ManagementPolicy: identityv1alpha1.ManagementPolicyFull, DeletionPolicy: identityv1alpha1.DeletionPolicyOrphan},
	}
	for _, m := range mutate {
		m(pam)
	}
	rec := events.NewFakeRecorder(100)
	r := &PhoneAuthMethodReconciler{
		Observer: &observe.Observer{TTL: 0}, // every read reaches the fake
		Users:    &usercache.Cache{}, Budgets: unitLedger(), Recorder: rec, ResyncPeriod: time.Hour,
		Now: func() time.Time { return time.Unix(1700000000, 0) },
	}
	s := &scope{pam: pam, number: pam.Spec.PhoneNumber, user: graph.User{ID: unitUserID, UserPrincipalName: pam.Spec.User}, userFresh: true,
		tenant: &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}},
		conn:   &tenantconn.Connection{TenantID: "tenant-1", Cloud: graph.CloudGlobal, Client: api}}
	return &unitWorld{r: r, api: api, events: rec, s: s}
}

// unitLedger is a change budget over a fake API server, with no jitter.
func unitLedger() *budget.Ledger {
	api := fake.NewClientBuilder().Build()
	return &budget.Ledger{Client: api, Reader: api, Namespace: "phoneop-system", Jitter: func(time.Duration) time.Duration { return 0 }}
}

func (w *unitWorld) converge(t *testing.T) *outcome {
	t.Helper()
	o := w.r.converge(context.Background(), w.s)
	w.s.outcome = o
	return o
}

// eventReasons drains the recorded events and returns their reasons.
func (w *unitWorld) eventReasons() []string {
	var out []string
	for {
		select {
		case e := <-w.events.Events:
			out = append(out, strings.Fields(e)[1]) // "<type> <reason> <note>"
		default:
			return out
		}
	}
}

func mobileWith(number, smsState string) graph.PhoneMethod {
	return graph.PhoneMethod{ID: plan.WellKnownMethodID(plan.Mobile), PhoneType: "mobile", PhoneNumber: number, SMSSignInState: smsState}
}

func observeOnly(p *identityv1alpha1.PhoneAuthMethod) {
	p.Spec.ManagementPolicy = identityv1alpha1.ManagementPolicyObserveOnly
}

func TestLostCreateIsReadBackNotReposted(t *testing.T) {
	book := newPhoneBook()
	api := fakeGraph(book)
	api.CreatePhoneMethodFunc = func(_ context.Context, _, phoneType, number string) (graph.PhoneMethod, error) {
		book.save(phoneType, number) // Graph saved it; the answer was lost on the way back
		return graph.PhoneMethod{}, &graph.Error{Op: "createPhoneMethod", Class: graph.Transient, Ambiguous: true}
	}
	w := newUnitWorld(api)

	o := w.converge(t)
	if !o.ready {
		t.Fatalf("outcome = %+v, want converged after re-reading the lost create", o)
	}
	if got, want := strings.Join(api.Calls(), ","), "ListPhoneMethods,CreatePhoneMethod,ListPhoneMethods"; got != want {
		t.Errorf("Graph calls = %s, want %s (one POST, then a re-list)", got, want)
	}
}

func TestConflictIsReReadWithoutASecondPost(t *testing.T) {
	book := newPhoneBook()
	api := fakeGraph(book)
	api.CreatePhoneMethodFunc = func(_ context.Context, _, phoneType, number string) (graph.PhoneMethod, error) {
		book.save(phoneType, number) // phoneNumberNotUnique: Graph saved the method anyway
		return graph.PhoneMethod{}, &graph.Error{Op: "createPhoneMethod", Status: 409, Code: "phoneNumberNotUnique", Class: graph.Conflict}
	}
	w := newUnitWorld(api)

	if o := w.converge(t); !o.ready {
		t.Fatalf("outcome = %+v, want converged", o)
	}
	if n := api.Count("CreatePhoneMethod"); n != 1 {
		t.Errorf("POSTs = %d, want 1: a 409 is re-read, never re-posted", n)
	}
	if n := api.Count("ListPhoneMethods"); n != 2 {
		t.Errorf("lists = %d, want 2 (before and after the 409)", n)
	}
}

func TestNumberUpdateReplansSMSSignIn(t *testing.T) {
	// SMS sign-in is off on the old number; Graph registers the new number for SMS by itself,
	// so the EnableSMS the first plan listed must be dropped after re-reading.
	book := newPhoneBook(mobileWith(unitOldNumber, "notEnabled"))
	api := fakeGraph(book)
	w := newUnitWorld(api)

	o := w.converge(t)
	if !o.ready {
		t.Fatalf("outcome = %+v, want converged", o)
	}
	if n := api.Count("EnableSMSSignIn"); n != 0 {
		t.Errorf("enableSmsSignIn calls = %d, want 0: the number write ends the round and SMS is re-planned on Graph's answer", n)
	}
	if got, want := strings.Join(api.Calls(), ","), "ListPhoneMethods,UpdatePhoneNumber,ListPhoneMethods"; got != want {
		t.Errorf("Graph calls = %s, want %s", got, want)
	}
	if got := w.eventReasons(); strings.Join(got, ",") != identityv1alpha1.ReasonNumberUpdated {
		t.Errorf("events = %v, want exactly one %s", got, identityv1alpha1.ReasonNumberUpdated)
	}
}

func TestApplyRoundsAreBounded(t *testing.T) {
	// Graph answers every PATCH with 204 and then reports yet another wrong number, so no write
	// repeats an observation: the round bound is what stops phoneop, which then backs off.
	book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
	api := fakeGraph(book)
	patches := 0
	api.UpdatePhoneNumberFunc = func(context.Context, string, string, string, string) error {
		patches++
		book.save("mobile", fmt.Sprintf("+1 20655501%02d", patches))
		return nil
	}
	w := newUnitWorld(api)

	o := w.converge(t)
	if o.reason != identityv1alpha1.ReasonGraphNotSettled || o.err == nil {
		t.Fatalf("outcome = %+v, want %s returned as an error for backoff", o, identityv1alpha1.ReasonGraphNotSettled)
	}
	if n := api.Count("UpdatePhoneNumber"); n != maxApplyRounds {
		t.Errorf("PATCHes = %d, want %d (one per round)", n, maxApplyRounds)
	}
}

func TestAnAcceptedWriteIsNotRepeatedAgainstTheSameObservation(t *testing.T) {
	// Graph answers the PATCH with 204 but keeps the old number (or a form phoneop does not
	// consider equal): phoneop writes once, then stops and says so, in this pass and the next.
	book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
	api := fakeGraph(book)
	api.UpdatePhoneNumberFunc = func(context.Context, string, string, string, string) error { return nil }
	w := newUnitWorld(api)

	for pass := 1; pass <= 2; pass++ {
		w.s.observed, w.s.methods = false, nil
		o := w.converge(t)
		if o.reason != identityv1alpha1.ReasonWriteNotReflected || !o.stalled || o.err != nil {
			t.Fatalf("pass %d: outcome = %+v, want stalled %s", pass, o, identityv1alpha1.ReasonWriteNotReflected)
		}
		if strings.Contains(o.message, "2065550") {
			t.Errorf("the message leaks a number: %s", o.message)
		}
	}
	if n := api.Count("UpdatePhoneNumber"); n != 1 {
		t.Errorf("PATCHes = %d over two passes, want 1", n)
	}
	// A change of spec is a new story: one more write is allowed.
	w.s.pam.Generation++
	w.s.observed = false
	w.converge(t)
	if n := api.Count("UpdatePhoneNumber"); n != 2 {
		t.Errorf("PATCHes after a spec change = %d, want 2", n)
	}
}

// TestTheWriteGuardSurvivesARestart: the record of a write Graph accepted and did not show is
// kept in status.writeGuard, so a new process (empty memory) does not repeat the write either.
func TestTheWriteGuardSurvivesARestart(t *testing.T) {
	book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
	api := fakeGraph(book)
	api.UpdatePhoneNumberFunc = func(context.Context, string, string, string, string) error { return nil }
	w := newUnitWorld(api)
	w.converge(t)
	w.r.setStatus(w.s, w.s.pam.DeepCopy())
	if g := w.s.pam.Status.WriteGuard; g == nil || len(g.Writes) != 1 || g.Generation != 1 {
		t.Fatalf("status.writeGuard after one accepted PATCH = %+v, want one write for generation 1", g)
	}

	w.r.writes = writeguard.Guard{} // a restarted manager remembers nothing in memory
	w.s.observed, w.s.methods = false, nil
	if o := w.converge(t); o.reason != identityv1alpha1.ReasonWriteNotReflected {
		t.Fatalf("after a restart: outcome %+v, want %s from status.writeGuard", o, identityv1alpha1.ReasonWriteNotReflected)
	}
	if n := api.Count("UpdatePhoneNumber"); n != 1 {
		t.Errorf("PATCHes across a restart = %d, want 1", n)
	}
}

// TestAForgedWriteGuardCannotCauseAWrite: status is writable by whoever may patch it, so the
// record is only compared against: keys of writes never made, an old generation or garbage
// change nothing, and the most a forged record can do is stop its own object's write.
func TestAForgedWriteGuardCannotCauseAWrite(t *testing.T) {
	cases := map[string]struct {
		guard       *identityv1alpha1.WriteGuardStatus
		wantPatches int
	}{
		"keys of writes never made":    {guard: &identityv1alpha1.WriteGuardStatus{Generation: 1, Writes: []string{"deadbeef", "x"}}, wantPatches: 1},
		"a record of an older spec":    {guard: &identityv1alpha1.WriteGuardStatus{Generation: 0, Writes: []string{"deadbeef"}}, wantPatches: 1},
		"a refusal long ago":           {guard: &identityv1alpha1.WriteGuardStatus{Generation: 1, NumberRefusedAt: &metav1.Time{Time: time.Unix(1600000000, 0)}}, wantPatches: 1},
		"a refusal claimed just now":   {guard: &identityv1alpha1.WriteGuardStatus{Generation: 1, NumberRefusedAt: &metav1.Time{Time: time.Unix(1700000000, 0)}}, wantPatches: 0},
		"the key of the planned write": {guard: nil, wantPatches: 0}, // filled below
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
			api := fakeGraph(book)
			w := newUnitWorld(api)
			guard := tc.guard
			if guard == nil {
				// The same write against the same observation, as an earlier pass would record it.
				seen := observedMethods([]graph.PhoneMethod{mobileWith(unitOldNumber, "ready")}, false)
				a := plan.Plan(desiredFrom(w.s, false), seen, plan.Policy{SMSSignInSupported: true}).Actions[0]
				guard = &identityv1alpha1.WriteGuardStatus{Generation: 1, Writes: []string{plan.WriteKey(a, seen)}}
			}
			w.s.pam.Status.WriteGuard = guard
			w.converge(t)
			if n := api.Count("UpdatePhoneNumber"); n != tc.wantPatches {
				t.Errorf("PATCHes = %d, want %d", n, tc.wantPatches)
			}
			if n := api.Count("CreatePhoneMethod") + api.Count("DeletePhoneMethod"); n != 0 {
				t.Errorf("a forged record caused %d other writes", n)
			}
		})
	}
}

func TestAStaleReadAfterAWriteIsNotWrittenAgain(t *testing.T) {
	// Graph applies the PATCH at once but its reads show the old number for a while: within the
	// settle window phoneop trusts its write, so read lag costs no second write.
	book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
	api := fakeGraph(book)
	stale, _ := book.list(context.Background(), "")
	api.ListPhoneMethodsFunc = func(ctx context.Context, u string) ([]graph.PhoneMethod, error) {
		if api.Count("UpdatePhoneNumber") > 0 {
			return stale, nil // the write happened; the read has not caught up
		}
		return book.list(ctx, u)
	}
	w := newUnitWorld(api)
	w.r.Observer.Settle = time.Minute

	o := w.converge(t)
	if !o.ready {
		t.Fatalf("outcome = %+v, want converged on the trusted write", o)
	}
	if n := api.Writes(); n != 1 {
		t.Errorf("Graph writes = %d, want 1: %v", n, api.Calls())
	}
}

func TestConvergeNeverWritesOverAMaskedNumber(t *testing.T) {
	book := newPhoneBook(mobileWith("+1 ********00", "notEnabled"))
	api := fakeGraph(book)
	w := newUnitWorld(api)

	o := w.converge(t)
	if o.reason != identityv1alpha1.ReasonNumberUnreadable || !o.stalled {
		t.Fatalf("outcome = %+v, want stalled %s", o, identityv1alpha1.ReasonNumberUnreadable)
	}
	if n := api.Writes(); n != 0 {
		t.Errorf("Graph writes = %d, want 0 to a masked method", n)
	}
}

func TestAnUnsavedConflictIsNotPostedAgainInThePass(t *testing.T) {
	// 409 phoneNumberNotUnique that did not save (the holder may be a deleted user).
	api := fakeGraph(newPhoneBook())
	api.CreatePhoneMethodFunc = func(context.Context, string, string, string) (graph.PhoneMethod, error) {
		return graph.PhoneMethod{}, &graph.Error{Op: "createPhoneMethod", Status: 409, Code: "phoneNumberNotUnique", Class: graph.Conflict}
	}
	w := newUnitWorld(api)

	o := w.converge(t)
	if o.reason != identityv1alpha1.ReasonPhoneNumberNotUnique || !o.stalled || o.requeueAfter != adminRetry {
		t.Fatalf("outcome = %+v, want stalled %s retried after %s", o, identityv1alpha1.ReasonPhoneNumberNotUnique, adminRetry)
	}
	if got, want := strings.Join(api.Calls(), ","), "ListPhoneMethods,CreatePhoneMethod,ListPhoneMethods"; got != want {
		t.Errorf("Graph calls = %s, want %s (one POST, a re-read, no second POST)", got, want)
	}
}

func TestARefusedNumberUpdateHasItsOwnReason(t *testing.T) {
	api := fakeGraph(newPhoneBook(mobileWith(unitOldNumber, "ready")))
	api.UpdatePhoneNumberFunc = func(context.Context, string, string, string, string) error {
		return &graph.Error{Op: "updatePhoneMethod", Status: 400, Code: "badRequest", Class: graph.Terminal}
	}
	w := newUnitWorld(api)
	if o := w.converge(t); o.reason != identityv1alpha1.ReasonUpdateRejected || !o.stalled {
		t.Fatalf("outcome = %+v, want stalled %s", o, identityv1alpha1.ReasonUpdateRejected)
	}
}

func TestObserveOnlyWritesNothing(t *testing.T) {
	book := newPhoneBook(mobileWith(unitOldNumber, "notEnabled"))
	api := fakeGraph(book)
	w := newUnitWorld(api, observeOnly)

	o := w.converge(t)
	if o.reason != identityv1alpha1.ReasonPlanned || o.ready {
		t.Fatalf("outcome = %+v, want %s", o, identityv1alpha1.ReasonPlanned)
	}
	if n := api.Writes(); n != 0 {
		t.Errorf("Graph writes = %d in ObserveOnly, want 0 (calls: %v)", n, api.Calls())
	}
	if got := w.s.result.Strings(); len(got) != 2 || got[0] != "UpdateNumber mobile +1 *******199" {
		t.Errorf("planned actions = %v, want the masked UpdateNumber then EnableSMS", got)
	}
}

func TestDriftCorrectedOnlyForAPreviouslyReadyObject(t *testing.T) {
	cases := map[string]struct {
		priorReady bool
		wantDrift  bool
	}{
		"a Ready object whose phone changed in Graph is drift": {priorReady: true, wantDrift: true},
		"an object that was never Ready is just converging":    {priorReady: false, wantDrift: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// Status recorded the spec's number; an admin since changed it in Entra.
			book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
			w := newUnitWorld(fakeGraph(book))
			w.s.priorReady = tc.priorReady
			w.s.pam.Status.PhoneMethodID = plan.WellKnownMethodID(plan.Mobile)
			w.s.pam.Status.PhoneNumber, w.s.pam.Status.SMSSignInState = "+1 *******199", "ready"

			if o := w.converge(t); !o.ready {
				t.Fatalf("outcome = %+v, want converged", o)
			}
			drift := false
			for _, r := range w.eventReasons() {
				drift = drift || r == identityv1alpha1.ReasonDriftCorrected
			}
			if drift != tc.wantDrift {
				t.Errorf("DriftCorrected event = %v, want %v", drift, tc.wantDrift)
			}
		})
	}
}

func TestInvalidNumberRefusedByGraphStalls(t *testing.T) {
	api := fakeGraph(newPhoneBook())
	api.CreatePhoneMethodFunc = func(context.Context, string, string, string) (graph.PhoneMethod, error) {
		return graph.PhoneMethod{}, &graph.Error{Op: "createPhoneMethod", Status: 400, Code: "invalidPhoneNumber", Class: graph.Terminal, RequestID: "req-1"}
	}
	w := newUnitWorld(api)

	o := w.converge(t)
	if o.reason != identityv1alpha1.ReasonInvalidNumber || !o.stalled || o.err != nil {
		t.Fatalf("outcome = %+v, want stalled %s", o, identityv1alpha1.ReasonInvalidNumber)
	}
	if requestIDOf(w.s.graphErr) != "req-1" {
		t.Errorf("the scope must keep the Graph error for the log and the Warning event")
	}
}

// TestUnitRequeue maps outcomes to the controller's result: errors back off, waits come back
// after their interval, a converged (or stalled-but-observed) object comes back on its resync
// schedule, and a released object is not requeued.
func TestRequeue(t *testing.T) {
	errBoom := &graph.Error{Op: "list", Status: 503, Class: graph.Transient}
	cases := map[string]struct {
		o         *outcome
		observed  bool
		released  bool
		wantErr   bool
		wantAfter func(got time.Duration) bool
	}{
		"converged comes back on the resync schedule": {o: converged("ok"), observed: true,
			wantAfter: func(d time.Duration) bool { return d > 0 && d <= time.Hour+6*time.Minute }},
		"a transient error backs off": {o: retrying(identityv1alpha1.ReasonGraphError, "retry", errBoom),
			wantErr: true, wantAfter: func(d time.Duration) bool { return d == 0 }},
		"throttling waits for Retry-After": {o: waitingFor(identityv1alpha1.ReasonThrottled, "later", 7*time.Second),
			wantAfter: func(d time.Duration) bool { return d == 7*time.Second }},
		"a stalled object that read Graph keeps reading it on the resync schedule": {o: stalledOn(identityv1alpha1.ReasonInvalidNumber, "fix", 0), observed: true,
			wantAfter: func(d time.Duration) bool { return d > 0 && d <= time.Hour+6*time.Minute }},
		"a stalled object that never read Graph waits for a change": {o: stalledOn(identityv1alpha1.ReasonSecretNotFound, "create it", 0),
			wantAfter: func(d time.Duration) bool { return d == 0 }},
		"a released object is left alone": {o: converged(""), released: true,
			wantAfter: func(d time.Duration) bool { return d == 0 }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newUnitWorld(fakeGraph(newPhoneBook()))
			w.s.outcome, w.s.observed, w.s.released = tc.o, tc.observed, tc.released
			res, err := w.r.resultFor(w.s)
			if (err != nil) != tc.wantErr {
				t.Errorf("error = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantAfter(res.RequeueAfter) {
				t.Errorf("RequeueAfter = %s: not what %q expects", res.RequeueAfter, name)
			}
			if res != (ctrl.Result{RequeueAfter: res.RequeueAfter}) {
				t.Errorf("result = %+v, want only RequeueAfter set", res)
			}
		})
	}
}

func TestPlanOutcomeFollowsTheBlockerKind(t *testing.T) {
	w := newUnitWorld(fakeGraph(newPhoneBook()))
	w.s.result = plan.Result{Wait: &plan.Blocker{Kind: plan.NeedsEntraAdmin, Reason: plan.ReasonAlternateMobileExists, Message: "remove it in Entra."}}
	if o := planOutcome(w.s); !o.stalled || o.requeueAfter != adminRetry || !o.synced {
		t.Errorf("an Entra-admin blocker: outcome = %+v, want stalled, synced, retried after %s", o, adminRetry)
	}
	w.s.result.Wait.Kind = plan.WaitsForSibling
	if o := planOutcome(w.s); o.stalled || o.requeueAfter != slowRetry {
		t.Errorf("a sibling wait: outcome = %+v, want progressing, retried after %s", o, slowRetry)
	}
}

func TestTheChangeBudgetCapsNumberChangesNotCreates(t *testing.T) {
	none := int32(0)
	book := newPhoneBook(mobileWith(unitOldNumber, "ready"))
	api := fakeGraph(book)
	w := newUnitWorld(api)
	w.s.tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &none

	o := w.converge(t)
	if o.reason != identityv1alpha1.ReasonChangeBudgetExceeded || o.stalled || o.requeueAfter <= 0 {
		t.Fatalf("outcome = %+v, want a progressing %s wait", o, identityv1alpha1.ReasonChangeBudgetExceeded)
	}
	if n := api.Writes(); n != 0 {
		t.Errorf("Graph writes = %d past the budget, want 0", n)
	}

	// Creating a missing phone is not destructive: it needs no budget.
	created := newUnitWorld(fakeGraph(newPhoneBook()))
	created.s.tenant.Spec.ChangeBudget.MaxDestructiveWritesPerHour = &none
	if o := created.converge(t); !o.ready {
		t.Errorf("a create with a budget of 0: outcome = %+v, want converged", o)
	}
}

// TestUnitPausedKeepsReadyAndIsNeverFailed: pausing keeps Ready as it was, removes Reconciling
// and Stalled, and says Paused on Synced. kstatus has no suspended state and reads Ready alone:
// a paused Ready object is Current, a paused object that was not Ready stays InProgress (never
// Failed). Argo CD shows every paused object as Suspended (test/manifests). A spec changed while
// paused is TestASpecChangedWhilePausedIsNotReportedApplied.
func TestPausedKeepsReadyAndIsNeverFailed(t *testing.T) {
	cases := map[string]struct {
		before      *outcome
		wantKstatus status.Status
	}{
		"a Ready object":                  {converged("ok"), status.CurrentStatus},
		"an object still making progress": {waitingFor(identityv1alpha1.ReasonMobileRequired, "wait", slowRetry), status.InProgressStatus},
		"a stalled object":                {stalledOn(identityv1alpha1.ReasonConflict, "owned", slowRetry), status.InProgressStatus},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
			r := &PhoneAuthMethodReconciler{Now: func() time.Time { return time.Unix(1700000000, 0) }}
			r.setStatus(&scope{pam: pam, outcome: tc.before}, pam.DeepCopy())
			readyBefore := *meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionReady)

			// Paused without a spec change: what phoneop applied is still what it reported.
			r.setStatus(&scope{pam: pam, outcome: pausedBy("paused")}, pam.DeepCopy())
			ready := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionReady)
			if ready.Status != readyBefore.Status || ready.Reason != readyBefore.Reason {
				t.Errorf("Ready changed from %s/%s to %s/%s", readyBefore.Status, readyBefore.Reason, ready.Status, ready.Reason)
			}
			synced := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionSynced)
			if synced == nil || synced.Status != metav1.ConditionFalse || synced.Reason != identityv1alpha1.ReasonPaused {
				t.Errorf("Synced = %+v, want False/Paused", synced)
			}
			for _, c := range []string{identityv1alpha1.ConditionReconciling, identityv1alpha1.ConditionStalled} {
				if meta.FindStatusCondition(pam.Status.Conditions, c) != nil {
					t.Errorf("a paused object still shows %s", c)
				}
			}
			if got := kstatusOf(t, pam); got != tc.wantKstatus {
				t.Errorf("kstatus = %s, want %s", got, tc.wantKstatus)
			}
		})
	}
}

// TestASpecChangedWhilePausedIsNotReportedApplied: a spec change that reaches a paused object is
// not reported as observed: observedGeneration stays at the generation phoneop applied, Ready
// says Unknown (Paused) for the new generation, and kstatus says InProgress (never Current,
// which Flux's wait and Helm 4's --wait would take for success, and never Failed).
func TestASpecChangedWhilePausedIsNotReportedApplied(t *testing.T) {
	cases := map[string]struct {
		before *outcome // nil: never reconciled before the pause
	}{
		"a Ready object":                  {converged("ok")},
		"an object still making progress": {waitingFor(identityv1alpha1.ReasonMobileRequired, "wait", slowRetry)},
		"a stalled object":                {stalledOn(identityv1alpha1.ReasonConflict, "owned", slowRetry)},
		"an object created paused":        {nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
			r := &PhoneAuthMethodReconciler{Now: func() time.Time { return time.Unix(1700000000, 0) }}
			applied := int64(0)
			if tc.before != nil {
				r.setStatus(&scope{pam: pam, outcome: tc.before}, pam.DeepCopy())
				applied = 1
			}

			pam.Generation = 2 // the spec changes while paused: phoneop makes no Graph call for it
			for pass := 0; pass < 2; pass++ {
				r.setStatus(&scope{pam: pam, outcome: pausedBy("paused")}, pam.DeepCopy())
			}
			if pam.Status.ObservedGeneration != applied {
				t.Errorf("observedGeneration = %d, want %d (the generation phoneop applied)", pam.Status.ObservedGeneration, applied)
			}
			ready := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionReady)
			if ready == nil || ready.Status != metav1.ConditionUnknown || ready.Reason != identityv1alpha1.ReasonPaused || ready.ObservedGeneration != 2 {
				t.Errorf("Ready = %+v, want Unknown/Paused for generation 2", ready)
			}
			if got := kstatusOf(t, pam); got != status.InProgressStatus {
				t.Errorf("kstatus = %s, want InProgress: the new spec never reached Graph", got)
			}

			// Resumed: the pass applies the spec and reports it.
			r.setStatus(&scope{pam: pam, outcome: converged("ok")}, pam.DeepCopy())
			if pam.Status.ObservedGeneration != 2 || kstatusOf(t, pam) != status.CurrentStatus {
				t.Errorf("after resuming: observedGeneration %d, kstatus %s; want 2 and Current", pam.Status.ObservedGeneration, kstatusOf(t, pam))
			}
		})
	}
}

func TestASpentRequestBudgetRequeuesWithoutTouchingStatus(t *testing.T) {
	api := fakeGraph(newPhoneBook())
	api.ListPhoneMethodsFunc = func(context.Context, string) ([]graph.PhoneMethod, error) {
		return nil, &graph.Error{Op: "listPhoneMethods", Code: graph.CodeClientThrottled, Class: graph.Throttled, RetryAfter: 3 * time.Second}
	}
	w := newUnitWorld(api)
	w.s.pam.Status.Conditions = []metav1.Condition{{Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: identityv1alpha1.ReasonSynced}}
	before := w.s.pam.DeepCopy()

	o := w.converge(t)
	if !o.deferred {
		t.Fatalf("outcome = %+v, want deferred", o)
	}
	w.r.setStatus(w.s, before)
	if !equality.Semantic.DeepEqual(before.Status, w.s.pam.Status) {
		t.Errorf("a deferred pass changed status: %+v", w.s.pam.Status)
	}
	if w.s.graphErr != nil {
		t.Errorf("nothing was sent, so there is no Graph error to log or warn about: %v", w.s.graphErr)
	}
	if res, err := w.r.resultFor(w.s); err != nil || res.RequeueAfter != 3*time.Second {
		t.Errorf("result = %+v, %v; want a requeue after the bucket's 3 s", res, err)
	}
}

func TestARefusedNumberWriteWaitsForTheSlowRetryAcrossPasses(t *testing.T) {
	cases := map[string]struct {
		book  *phoneBook
		write string
	}{
		"a create answered 409 that did not save":  {newPhoneBook(), "CreatePhoneMethod"},
		"an update answered 409 that did not save": {newPhoneBook(mobileWith(unitOldNumber, "ready")), "UpdatePhoneNumber"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			api := fakeGraph(tc.book)
			notUnique := &graph.Error{Op: "write", Status: 409, Code: "phoneNumberNotUnique", Class: graph.Conflict}
			api.CreatePhoneMethodFunc = func(context.Context, string, string, string) (graph.PhoneMethod, error) {
				return graph.PhoneMethod{}, notUnique
			}
			api.UpdatePhoneNumberFunc = func(context.Context, string, string, string, string) error { return notUnique }
			w := newUnitWorld(api)
			now := time.Unix(1700000000, 0)
			w.r.Now = func() time.Time { return now }

			// Pass 1 writes once and stops; pass 2 (a sibling woke the object a minute later)
			// writes nothing; pass 3, after the slow retry, tries once more.
			for pass, wantWrites := range []int{1, 1, 2} {
				w.s.observed, w.s.methods = false, nil
				o := w.converge(t)
				if o.reason != identityv1alpha1.ReasonPhoneNumberNotUnique || !o.stalled {
					t.Fatalf("pass %d: outcome = %+v, want stalled %s", pass+1, o, identityv1alpha1.ReasonPhoneNumberNotUnique)
				}
				if n := api.Count(tc.write); n != wantWrites {
					t.Fatalf("pass %d: %s calls = %d, want %d", pass+1, tc.write, n, wantWrites)
				}
				if pass == 0 {
					now = now.Add(time.Minute)
				} else {
					now = now.Add(adminRetry)
				}
			}
		})
	}
}
