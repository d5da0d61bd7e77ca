package controllers

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/plan"
)

// Retry intervals for outcomes that are not errors (errors use the controller's exponential
// backoff instead).
const (
	// userNotFoundRetry: directory replication of a new user takes seconds to minutes.
	userNotFoundRetry = time.Minute
	// slowRetry: waiting on something a watch usually tells us about (tenant, sibling), or on
	// a permission an admin must grant.
	slowRetry = 5 * time.Minute
	// adminRetry: waiting on an SMS sign-in policy or number clash an admin must resolve.
	adminRetry = 10 * time.Minute
)

// outcome is the decision of one pass: what the conditions say and when to come back.
type outcome struct {
	// ready: Graph matches the spec (or, when deleting, the method is gone).
	ready bool
	// synced: Graph was observed (and written, if needed) without error.
	synced bool
	// reason and message explain a not-ready outcome; the message is one sentence.
	reason, message string
	// stalled: retrying cannot help until a person changes something.
	stalled bool
	// requeueAfter: when to look again; zero means only when something changes.
	requeueAfter time.Duration
	// err: a transient failure, retried with the controller's backoff.
	err error
	// reconnect: Graph rejected the tenant's token; reload the credentials next time.
	reconnect bool
	// graphErr is the Graph failure behind the outcome, logged with its request-id.
	graphErr error
	// notOurs: the phone is not this object's to delete (tenant or user gone, grant refused,
	// another object owns it); a deletion releases the finalizer without touching Graph.
	notOurs bool
}

func waitFor(reason, message string, after time.Duration) *outcome {
	return &outcome{reason: reason, message: message, requeueAfter: after}
}

// blockerPolicy says, per planner wait reason, whether a person must act and when to look again.
var blockerPolicy = map[string]struct {
	stalled bool
	after   time.Duration
}{
	plan.ReasonMobileRequired:        {false, slowRetry}, // the sibling watch is the fast path
	plan.ReasonAlternateMobileExists: {false, slowRetry}, // the sibling watch is the fast path
	plan.ReasonSmsNotAllowedByPolicy: {true, adminRetry},
	plan.ReasonPhoneNumberNotUnique:  {true, adminRetry},
	plan.ReasonSmsSignInStateUnknown: {false, slowRetry},
	plan.ReasonSmsSignInNotSupported: {true, 0},
	plan.ReasonSmsSignInOnlyOnMobile: {true, 0},
	plan.ReasonInvalidNumber:         {true, 0},
	plan.ReasonInvalidPhoneType:      {true, 0},
}

// planOutcome turns a successful observation's plan into the outcome.
func planOutcome(s *scope) outcome {
	r := s.result
	switch {
	case r.UpToDate():
		msg := fmt.Sprintf("The %s phone in Graph matches the spec", s.pam.Spec.PhoneType)
		if !s.pam.DeletionTimestamp.IsZero() {
			msg = "The phone method is gone from Graph"
		}
		return outcome{ready: true, synced: true, reason: identityv1alpha1.ReasonSynced, message: msg}
	case r.Wait != nil && r.Wait.Reason == plan.ReasonAlternateMobileExists && !s.siblingAlternate:
		// No alternateMobile object will go away on its own: the alternate in Graph is unmanaged
		// or orphaned, and only a person can remove it.
		return outcome{synced: true, reason: r.Wait.Reason, stalled: true, requeueAfter: slowRetry,
			message: "Graph cannot delete the mobile while the user has an alternateMobile that no PhoneAuthMethod manages; remove it in Entra, or set deletionPolicy Orphan"}
	case r.Wait != nil:
		p, known := blockerPolicy[r.Wait.Reason]
		if !known {
			p.after = slowRetry
		}
		return outcome{synced: true, reason: r.Wait.Reason, message: r.Wait.Message, stalled: p.stalled, requeueAfter: p.after}
	default:
		// Actions and no wait: converge only stops with pending actions in ObserveOnly (Full
		// applies them first).
		return outcome{synced: true, reason: identityv1alpha1.ReasonPlanned,
			message: fmt.Sprintf("ObserveOnly: phoneop would %s; set spec.managementPolicy to Full to apply", strings.Join(r.Strings(), ", "))}
	}
}

// graphOutcome classifies a Graph failure (the client's Class) into an outcome. Messages carry
// neither Graph's request-id nor a countdown: both change on every retry, and a condition that
// changes on every retry costs a status write per retry. The request-id goes to the log and to
// the Warning event of the transition instead (see graphErr).
func graphOutcome(err error, doing string) *outcome {
	o := graphOutcomeFor(err, doing)
	o.graphErr = err
	return o
}

func graphOutcomeFor(err error, doing string) *outcome {
	switch graph.ClassOf(err) {
	case graph.Throttled:
		return &outcome{reason: identityv1alpha1.ReasonThrottled, requeueAfter: max(graph.RetryAfterOf(err), time.Second),
			message: fmt.Sprintf("Graph is throttling the tenant while %s; phoneop resumes after Graph's Retry-After", doing)}
	case graph.Forbidden:
		return &outcome{reason: identityv1alpha1.ReasonForbidden, stalled: true, requeueAfter: slowRetry,
			message: fmt.Sprintf("Graph denied %s: grant the app UserAuthenticationMethod.ReadWrite.All (or UserAuthMethod-Phone.ReadWrite.All) and User.Read.All with admin consent", doing)}
	case graph.Unauthorized:
		return &outcome{reason: identityv1alpha1.ReasonTenantNotReady, requeueAfter: time.Minute, reconnect: true,
			message: fmt.Sprintf("Graph rejected the tenant's token while %s; check the EntraTenant's credentials", doing)}
	case graph.Terminal:
		return &outcome{reason: identityv1alpha1.ReasonGraphError, stalled: true, requeueAfter: slowRetry,
			message: fmt.Sprintf("Graph refused %s as invalid; check the spec, phoneop retries slowly", doing)}
	}
	return &outcome{err: err, reason: identityv1alpha1.ReasonGraphError,
		message: fmt.Sprintf("Graph failed while %s; phoneop backs off and retries", doing)}
}

// connectOutcome explains a failed tenant connection.
func connectOutcome(tenant string, err error) *outcome {
	if credErr := (*ErrCredentials)(nil); errors.As(err, &credErr) {
		return &outcome{reason: identityv1alpha1.ReasonTenantNotReady, message: err.Error(), requeueAfter: slowRetry}
	}
	return &outcome{err: err, reason: identityv1alpha1.ReasonTenantNotReady, message: fmt.Sprintf("Connecting to EntraTenant %q failed; phoneop retries", tenant)}
}

// requestIDOf returns Graph's request-id of a failed call, for logs, events and support cases.
func requestIDOf(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.RequestID
	}
	return ""
}

// setStatus turns the pass's facts into status fields and conditions. observedGeneration
// moves only when the pass decided something (no error to retry).
func (r *PhoneAuthMethodReconciler) setStatus(s *scope, before *identityv1alpha1.PhoneAuthMethod, retErr error) {
	pam, o := s.pam, s.outcome
	st := &pam.Status
	if s.observed {
		recordObservation(st, s.methods, pam.Spec.PhoneType)
		st.PlannedActions = s.result.Strings()
		if len(st.PlannedActions) == 0 {
			st.PlannedActions = nil
		}
	}
	gen := pam.Generation
	if o.ready {
		setCondition(&st.Conditions, gen, identityv1alpha1.ConditionReady, metav1.ConditionTrue, o.reason, o.message)
		clearProgress(&st.Conditions)
	} else {
		setCondition(&st.Conditions, gen, identityv1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
		if o.stalled {
			markStalled(&st.Conditions, gen, o.reason, o.message)
		} else {
			markReconciling(&st.Conditions, gen, o.reason, o.message)
		}
	}
	if o.synced && o.err == nil && retErr == nil {
		setCondition(&st.Conditions, gen, identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonSynced, "The last read of Graph (and any writes) succeeded")
	} else {
		setCondition(&st.Conditions, gen, identityv1alpha1.ConditionSynced, metav1.ConditionFalse, o.reason, o.message)
	}
	if o.err == nil && retErr == nil {
		st.ObservedGeneration = gen
	}
	if o.synced && !equality.Semantic.DeepEqual(before.Status, pam.Status) {
		now := metav1.NewTime(r.now().Truncate(time.Second))
		st.LastSyncTime = &now
	}
}

// recordObservation copies Graph's view of the object's phone type into status, masked.
func recordObservation(st *identityv1alpha1.PhoneAuthMethodStatus, methods []graph.PhoneMethod, t identityv1alpha1.PhoneType) {
	st.PhoneMethodID, st.PhoneNumber, st.SMSSignInState = "", "", ""
	for _, m := range methods {
		if m.PhoneType == string(t) {
			st.PhoneMethodID, st.PhoneNumber, st.SMSSignInState = m.ID, phone.Mask(m.PhoneNumber), m.SMSSignInState
		}
	}
}

// resultFor maps the outcome to the controller's result (one mapping, used by every branch).
// Errors return to controller-runtime for exponential backoff; throttling requeues after
// Retry-After without an error so that backoff does not stack on top of it; a converged
// object comes back on its user's resync schedule.
func (r *PhoneAuthMethodReconciler) resultFor(s *scope) (ctrl.Result, error) {
	o := s.outcome
	switch {
	case s.released:
		return ctrl.Result{}, o.err
	case o.err != nil:
		return ctrl.Result{}, o.err
	case o.ready:
		return ctrl.Result{RequeueAfter: resyncAfter(s.pam.Spec.TenantRef.Name+"/"+s.user.ID, r.ResyncPeriod, r.now())}, nil
	case o.requeueAfter == 0 && s.observed:
		// Waiting for a spec change (ObserveOnly, a terminal blocker) still re-reads Graph on
		// the resync schedule, so plans and drift stay current.
		return ctrl.Result{RequeueAfter: resyncAfter(s.pam.Spec.TenantRef.Name+"/"+s.user.ID, r.ResyncPeriod, r.now())}, nil
	default:
		return ctrl.Result{RequeueAfter: o.requeueAfter}, nil
	}
}

// resyncAfter schedules a converged object's next read of Graph. Every user gets a fixed phase
// in the period, derived from its key, and each cycle a jitter of up to ±10 % of the period,
// also derived from the key: the objects of one user come due at the same instant (so they
// share one GET through the Observer), users spread evenly over the period (so the tenant's
// read load is flat instead of bursting when objects were created together), and no two
// cycles of a user are exactly one period apart.
func resyncAfter(key string, period time.Duration, now time.Time) time.Duration {
	if period <= 0 {
		return 0
	}
	earliest := now.Add(time.Second)
	// Start a cycle early: with jitter, the previous cycle's instant may still be ahead.
	nominal := now.Truncate(period).Add(time.Duration(hashOf(key) % uint64(period))).Add(-period)
	for {
		at := nominal.Add(cycleJitter(key, nominal, period))
		if at.After(earliest) {
			return at.Sub(now)
		}
		nominal = nominal.Add(period)
	}
}

// cycleJitter is the user's offset in [-period/10, +period/10] for the cycle due at nominal.
func cycleJitter(key string, nominal time.Time, period time.Duration) time.Duration {
	span := uint64(period / 5)
	if span == 0 {
		return 0
	}
	h := hashOf(key + "@" + strconv.FormatInt(nominal.UnixNano(), 10))
	return time.Duration(h%span) - period/10
}

func hashOf(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}
