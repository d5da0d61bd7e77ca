package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/observe"
	"github.com/phoneop/phoneop/internal/plan"
)

// afterWrite is what a successful write tells phoneop about Graph's new state.
type afterWrite int

const (
	// takeResponse: the answer is the method's new state (a POST's 201 body; a DELETE means
	// gone). The round ends and the next plan uses it without a re-read.
	takeResponse afterWrite = iota
	// reobserve: a 204 says nothing about the new state, so the next round re-reads; the
	// plan's remaining actions still apply.
	reobserve
	// reobserveAndEndRound: as reobserve, but the remaining actions were planned against a state
	// Graph recomputes after this write (it registers a new number for SMS sign-in by itself),
	// so they are re-planned after the re-read instead.
	reobserveAndEndRound
)

// graphWrite is how one kind of planned action is applied.
type graphWrite struct {
	// call makes the Graph request; it returns the method Graph answered with, if any.
	call func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error)
	// event is the reason of the Normal event recorded after the write succeeds.
	event string
	// after is what the success tells phoneop.
	after afterWrite
	// expect is the method as the write leaves it (nil: gone), trusted over a read that still
	// shows the state before the write (Graph's reads lag its writes).
	expect func(before *graph.PhoneMethod, a plan.Action, answer graph.PhoneMethod) *graph.PhoneMethod
	// refused is what Graph refusing the write as invalid (400) means; nil (or a nil answer):
	// the generic GraphError outcome.
	refused func(err error) *outcome
}

// graphWrites is every Graph write phoneop makes, by planned action. Adding a Graph operation
// means a plan.ActionKind, a row here, and its event reason in the API.
var graphWrites = map[plan.ActionKind]graphWrite{
	plan.Create: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return c.CreatePhoneMethod(ctx, userID, string(a.PhoneType), a.Number)
		},
		event: identityv1alpha1.ReasonCreated, after: takeResponse,
		expect:  func(_ *graph.PhoneMethod, _ plan.Action, answer graph.PhoneMethod) *graph.PhoneMethod { return &answer },
		refused: func(error) *outcome { return numberRefused() },
	},
	plan.UpdateNumber: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return graph.PhoneMethod{}, c.UpdatePhoneNumber(ctx, userID, a.MethodID, string(a.PhoneType), a.Number)
		},
		event: identityv1alpha1.ReasonNumberUpdated, after: reobserveAndEndRound,
		expect: func(before *graph.PhoneMethod, a plan.Action, _ graph.PhoneMethod) *graph.PhoneMethod {
			return changed(before, func(m *graph.PhoneMethod) { m.PhoneNumber = a.Number })
		},
		refused: func(error) *outcome { return updateRefused() },
	},
	plan.Delete: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			if err := c.DeletePhoneMethod(ctx, userID, a.MethodID); err != nil && !graph.IsNotFound(err) {
				return graph.PhoneMethod{}, err
			}
			return graph.PhoneMethod{}, nil // gone, or already gone: the goal is met
		},
		event: identityv1alpha1.ReasonDeleted, after: takeResponse,
		expect:  func(*graph.PhoneMethod, plan.Action, graph.PhoneMethod) *graph.PhoneMethod { return nil },
		refused: deleteRefused,
	},
	plan.EnableSMS: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return graph.PhoneMethod{}, c.EnableSMSSignIn(ctx, userID, a.MethodID)
		},
		event: identityv1alpha1.ReasonSmsSignInEnabled, after: reobserve, refused: func(error) *outcome { return smsSignInRefused() },
		expect: func(before *graph.PhoneMethod, _ plan.Action, _ graph.PhoneMethod) *graph.PhoneMethod {
			return changed(before, func(m *graph.PhoneMethod) { m.SMSSignInState = plan.StateReady })
		},
	},
	plan.DisableSMS: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return graph.PhoneMethod{}, c.DisableSMSSignIn(ctx, userID, a.MethodID)
		},
		event: identityv1alpha1.ReasonSmsSignInDisabled, after: reobserve,
		expect: func(before *graph.PhoneMethod, _ plan.Action, _ graph.PhoneMethod) *graph.PhoneMethod {
			return changed(before, func(m *graph.PhoneMethod) { m.SMSSignInState = plan.StateNotEnabled })
		},
	},
}

// applied is what a round of writes tells the next round.
type applied struct {
	// methods is the user's phone methods as the writes' answers leave them; it counts only
	// when reread is false.
	methods []graph.PhoneMethod
	// reread: the answers do not tell the new state (a 204, or a write whose outcome is
	// unknown), so the next round reads Graph again.
	reread bool
}

// apply performs the plan's writes in order, until one ends the round, and returns what they
// told. Whether a write may be made at all is the planner's decision (plan.Observed.WritesMade,
// NumberWriteRefused); apply records each write Graph accepts, and each number refusal, for the
// next plan. An ambiguous or conflicting write is followed by a re-read in the next round, never
// by a repeated POST. A nil outcome continues with the next round.
func (r *PhoneAuthMethodReconciler) apply(ctx context.Context, s *scope, observed plan.Observed) (applied, *outcome) {
	did := applied{methods: s.methods}
	for _, a := range s.result.Actions {
		w, known := graphWrites[a.Kind]
		if !known {
			return did, stalledOn(identityv1alpha1.ReasonGraphError, "phoneop planned a Graph write it cannot make; report this as a bug", slowRetry)
		}
		pool, capped := budgetPoolOf(a.Kind, s.createdPhone)
		if (a.Kind == plan.UpdateNumber || a.Kind == plan.Delete) && !s.userFresh {
			if o := r.freshUser(ctx, s); o != nil {
				return did, o
			}
		}
		var token budget.Token
		if capped {
			var o *outcome
			if token, o = r.takeBudget(ctx, s, pool); o != nil {
				return did, o
			}
		}
		before := observe.MethodOfType(s.methods, string(a.PhoneType))
		answer, err := w.call(ctx, s.conn.Client, s.user.ID, a)
		if err != nil {
			r.Observer.Invalidate(s.conn.TenantID, s.user.ID)
			r.refundIfUnchanged(ctx, token, err)
			return r.writeFailed(ctx, s, a, w, err, did)
		}
		r.writes.RecordWrite(s.pam, &s.guard, plan.WriteKey(a, observed))
		s.createdPhone = s.createdPhone || a.Kind == plan.Create
		r.Observer.RecordWrite(s.conn.TenantID, s.user.ID, string(a.PhoneType), before, w.expect(before, a, answer))
		r.recordWriteEvent(s, a, w.event)
		switch w.after {
		case takeResponse:
			did.methods = append(observe.WithoutType(did.methods, string(a.PhoneType)), answered(answer)...)
			return did, nil
		case reobserveAndEndRound:
			did.reread = true
			return did, nil
		case reobserve:
			did.reread = true
		}
	}
	return did, nil
}

// freshUser reads the user from Graph again before the pass's first number change or delete (unless
// this pass already did), so that a number change or a delete is judged on who the user is
// now, not on a cached answer: the bound identity and the grant (a rename into deniedUsers or
// out of allowedDomains) are checked again.
func (r *PhoneAuthMethodReconciler) freshUser(ctx context.Context, s *scope) *outcome {
	u, err := s.conn.Client.GetUser(ctx, s.user.ID)
	if err != nil {
		if graph.IsNotFound(err) {
			return r.userGone(s, err)
		}
		return s.graphFailed(err, "reading the user again before a destructive write")
	}
	if !strings.EqualFold(u.ID, s.user.ID) {
		return s.notOursBecause(userChanged(s.pam, s.user.ID, u.ID))
	}
	r.Users.Put(s.tenant.Spec.TenantID, u)
	s.user, s.userFresh = u, true
	return r.checkGrant(s)
}

// writeFailed decides what a failed write means. When the write may have happened, or Graph's
// state is not what the plan assumed (ambiguous, 409, 404), the next round re-reads and plans
// again rather than guess; anything else ends the pass.
func (r *PhoneAuthMethodReconciler) writeFailed(ctx context.Context, s *scope, a plan.Action, w graphWrite, err error, did applied) (applied, *outcome) {
	if graph.IsAmbiguous(err) || graph.IsConflict(err) || graph.IsNotFound(err) {
		ctrl.LoggerFrom(ctx).Info("Graph write outcome unknown; re-reading before deciding", "action", a.Kind, "requestID", requestIDOf(err))
		// A 409 on a number write usually saved it; if the re-read shows the number still not
		// in place, it did not, and the planner writes it again only after the admin retry.
		if graph.IsConflict(err) && (a.Kind == plan.Create || a.Kind == plan.UpdateNumber) {
			r.writes.RecordNumberRefusal(s.pam, &s.guard, r.now())
		}
		did.reread = true
		return did, nil
	}
	o := s.graphFailed(err, "applying "+string(a.Kind))
	if graph.IsTerminal(err) && w.refused != nil {
		if refused := w.refused(err); refused != nil {
			return did, refused
		}
	}
	return did, o
}

// numberRefused: Graph answered a create with 400, which for a number phoneop has parsed
// means Graph's own rules refuse it.
func numberRefused() *outcome {
	return stalledOn(identityv1alpha1.ReasonInvalidNumber,
		"Graph rejected the phone number as invalid; fix spec.phoneNumber (or the Secret it names)", slowRetry)
}

// updateRefused: Graph answered a PATCH with 400. Graph gives no code for a bad number, and
// the number passed phoneop's checks, so this is reported on its own rather than blamed on the
// number.
func updateRefused() *outcome {
	return stalledOn(identityv1alpha1.ReasonUpdateRejected,
		"Graph refused to change the phone's number; compare the method in Entra with the spec, and quote the Graph request-id of the Warning event to Microsoft support if it persists", slowRetry)
}

// deleteRefused: Graph answered a delete with 400. The one refusal it documents is the
// user's default method, which only the user or an admin can change; anything else is the
// generic outcome.
func deleteRefused(err error) *outcome {
	if !graph.IsDefaultMethodRefusal(err) {
		return nil
	}
	return stalledOn(identityv1alpha1.ReasonDefaultMethodInUse,
		"Graph refuses to delete this phone because it is the user's default sign-in method and the user has other methods: have the user change the default on their My Sign-Ins security info page (https://mysignins.microsoft.com/security-info), or an admin in the Entra admin center (Users → the user → Authentication methods), and phoneop retries every 10 minutes", adminRetry)
}

// budgetPoolOf says which of the tenant's change budgets a write spends (capped false: none).
// Number changes, deletes, and SMS sign-in changes of a phone that existed before this pass
// can strip or lock out a user's MFA, and share the destructive cap; a create adds an MFA
// factor and has a cap of its own; the SMS sign-in setting of a phone created in this pass is
// part of that create.
func budgetPoolOf(kind plan.ActionKind, createdThisPass bool) (pool budget.Pool, capped bool) {
	switch kind {
	case plan.Create:
		return budget.Creates, true
	case plan.UpdateNumber, plan.Delete:
		return budget.Destructive, true
	case plan.EnableSMS, plan.DisableSMS:
		if createdThisPass {
			return "", false
		}
		return budget.Destructive, true
	}
	return budget.Destructive, true // a write this function does not know is capped, not free
}

// takeBudget takes a token of the pool for the object, persisted before the Graph write; a nil
// outcome means the write may be sent.
func (r *PhoneAuthMethodReconciler) takeBudget(ctx context.Context, s *scope, pool budget.Pool) (budget.Token, *outcome) {
	limit := budgetLimit(s.tenant, pool)
	token, wait, err := r.Budgets.Take(ctx, s.conn.TenantID, pool, limit, client.ObjectKeyFromObject(s.pam))
	if err != nil {
		return budget.Token{}, kubernetesAPIFailed(err, "recording the write in the tenant's change budget")
	}
	if !token.Taken() {
		return budget.Token{}, budgetExceeded(s.tenant, pool, wait)
	}
	return token, nil
}

// refundIfUnchanged gives the token of a failed write back when the write certainly changed
// nothing (graph.Refundable); a refund that fails only costs budget, so it is logged.
func (r *PhoneAuthMethodReconciler) refundIfUnchanged(ctx context.Context, token budget.Token, err error) {
	if !token.Taken() || !graph.Refundable(err) {
		return
	}
	// The pass's context may be what ended the write; the refund is still owed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
	defer cancel()
	if rerr := r.Budgets.Refund(ctx, token); rerr != nil {
		ctrl.LoggerFrom(ctx).Error(rerr, "Refunding a change budget token failed; the token stays spent until it leaves the hour")
	}
}

// refundTimeout bounds a refund's API-server write, made after the pass's own context may
// have ended.
const refundTimeout = 10 * time.Second

// budgetLimit is the tenant's cap for the pool.
func budgetLimit(t *identityv1alpha1.EntraTenant, pool budget.Pool) int {
	if pool == budget.Creates {
		return t.Spec.ChangeBudget.CreatesPerHour()
	}
	return t.Spec.ChangeBudget.DestructiveWritesPerHour()
}

// Budget-wait messages, one per pool; budgetPoolOfWait reads them back after a restart.
const (
	destructiveBudgetMessage = "EntraTenant %q allows %d destructive writes (number changes, deletes, and SMS sign-in changes of existing phones) per rolling hour and they are used up; phoneop resumes as the hour frees them, or at once when spec.changeBudget.maxDestructiveWritesPerHour is raised"
	createsBudgetMessage     = "EntraTenant %q allows %d new phones per rolling hour and they are used up; phoneop resumes as the hour frees them, or at once when spec.changeBudget.maxCreatesPerHour is raised"
)

// budgetExceeded: the tenant's budget of the pool for the rolling hour is used up. A wait, not
// a failure: time frees the budget, and raising the cap wakes the tenant's objects. The
// message holds no countdown, which would cost a status write per retry.
func budgetExceeded(t *identityv1alpha1.EntraTenant, pool budget.Pool, wait time.Duration) *outcome {
	format := destructiveBudgetMessage
	if pool == budget.Creates {
		format = createsBudgetMessage
	}
	return waitingFor(identityv1alpha1.ReasonChangeBudgetExceeded, fmt.Sprintf(format, t.Name, budgetLimit(t, pool)), max(wait, time.Second))
}

// changed returns a copy of before with mutate applied (nil when there was no method).
func changed(before *graph.PhoneMethod, mutate func(*graph.PhoneMethod)) *graph.PhoneMethod {
	if before == nil {
		return nil
	}
	m := *before
	mutate(&m)
	return &m
}

// answered is the method a write answered with, if it answered with one.
func answered(m graph.PhoneMethod) []graph.PhoneMethod {
	if m.ID == "" && m.PhoneType == "" {
		return nil
	}
	return []graph.PhoneMethod{m}
}

// waitForBudget: an object whose last pass, for its current generation, stopped on the change
// budget asks the budget again (without taking) before anything reads Graph or its number
// Secret; while its turn has not come it waits again, at the cost of no API call beyond the
// ledger's copy. When its turn has come, the pass goes on and the write takes the token.
func (r *PhoneAuthMethodReconciler) waitForBudget(ctx context.Context, s *scope) *outcome {
	pool, waiting := budgetWaitOf(s.pam)
	if !waiting {
		return nil
	}
	ok, wait, err := r.Budgets.Check(ctx, s.conn.TenantID, pool, budgetLimit(s.tenant, pool), client.ObjectKeyFromObject(s.pam))
	if err != nil || ok {
		return nil // the write's Take decides; a failed check costs one Graph read at most
	}
	return budgetExceeded(s.tenant, pool, wait)
}

// budgetWaitOf reports whether the object's last pass stopped on the change budget for its
// current generation (a new spec, or a forced re-read, plans again), and for which pool. The
// pool comes from the condition's message: status is all a restarted manager knows.
func budgetWaitOf(pam *identityv1alpha1.PhoneAuthMethod) (budget.Pool, bool) {
	c := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionReady)
	if c == nil || c.Reason != identityv1alpha1.ReasonChangeBudgetExceeded ||
		pam.Status.ObservedGeneration != pam.Generation || forcedResync(pam) {
		return "", false
	}
	if strings.Contains(c.Message, "new phones per rolling hour") {
		return budget.Creates, true
	}
	return budget.Destructive, true
}
