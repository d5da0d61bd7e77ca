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
	// shortRetry: Graph is settling after our own writes.
	shortRetry = 5 * time.Second
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
	plan.ReasonAlternateMobileExists: {false, 30 * time.Second},
	plan.ReasonSmsNotAllowedByPolicy: {true, adminRetry},
	plan.ReasonPhoneNumberNotUnique:  {true, adminRetry},
	plan.ReasonSmsSignInStateUnknown: {false, slowRetry},
	plan.ReasonSmsSignInNotSupported: {true, 0},
	plan.ReasonSmsSignInOnlyOnMobile: {true, 0},
	plan.ReasonInvalidNumber:         {true, 0},
	plan.ReasonInvalidPhoneType:      {true, 0},
}

// planOutcome turns a successful observation's plan into the outcome.
func planOutcome(s *scope, wrote bool) outcome {
	r := s.result
	switch {
	case r.UpToDate():
		msg := fmt.Sprintf("The %s phone in Graph matches the spec", s.pam.Spec.PhoneType)
		if !s.pam.DeletionTimestamp.IsZero() {
			msg = "The phone method is gone from Graph"
		}
		return outcome{ready: true, synced: true, reason: identityv1alpha1.ReasonSynced, message: msg}
	case r.Wait != nil:
		p, known := blockerPolicy[r.Wait.Reason]
		if !known {
			p.after = slowRetry
		}
		return outcome{synced: true, reason: r.Wait.Reason, message: r.Wait.Message, stalled: p.stalled, requeueAfter: p.after}
	case s.pam.Spec.ManagementPolicy == identityv1alpha1.ManagementPolicyObserveOnly:
		return outcome{synced: true, reason: identityv1alpha1.ReasonPlanned,
			message: fmt.Sprintf("ObserveOnly: phoneop would %s; set spec.managementPolicy to Full to apply", strings.Join(r.Strings(), ", "))}
	default:
		_ = wrote
		return outcome{synced: true, reason: identityv1alpha1.ReasonCreating, requeueAfter: shortRetry,
			message: "phoneop is applying changes to Graph"}
	}
}

// graphOutcome classifies a Graph failure (the client's Class) into an outcome.
func graphOutcome(err error, doing string) *outcome {
	rid := requestIDSuffix(err)
	switch graph.ClassOf(err) {
	case graph.Throttled:
		after := max(graph.RetryAfterOf(err), time.Second)
		return &outcome{reason: identityv1alpha1.ReasonThrottled, requeueAfter: after,
			message: fmt.Sprintf("Graph is throttling the tenant while %s; phoneop retries in %s%s", doing, after.Round(time.Second), rid)}
	case graph.Forbidden:
		return &outcome{reason: identityv1alpha1.ReasonForbidden, stalled: true, requeueAfter: slowRetry,
			message: fmt.Sprintf("Graph denied %s: grant the app UserAuthenticationMethod.ReadWrite.All (or UserAuthMethod-Phone.ReadWrite.All) and User.Read.All with admin consent%s", doing, rid)}
	case graph.Unauthorized:
		return &outcome{reason: identityv1alpha1.ReasonTenantNotReady, requeueAfter: time.Minute, reconnect: true,
			message: fmt.Sprintf("Graph rejected the tenant's token while %s; check the EntraTenant's credentials%s", doing, rid)}
	case graph.Terminal:
		return &outcome{reason: identityv1alpha1.ReasonInvalidNumber, stalled: true,
			message: fmt.Sprintf("Graph refused the request while %s as invalid; fix the phone number in the spec%s", doing, rid)}
	case graph.NotFound:
		return &outcome{reason: identityv1alpha1.ReasonUserNotFound, requeueAfter: userNotFoundRetry,
			message: fmt.Sprintf("Graph did not find the user or method while %s; phoneop retries%s", doing, rid)}
	}
	return &outcome{err: err, reason: identityv1alpha1.ReasonGraphError,
		message: fmt.Sprintf("Graph failed while %s; phoneop backs off and retries%s", doing, rid)}
}

// connectOutcome explains a failed tenant connection.
func connectOutcome(tenant string, err error) *outcome {
	if _, ok := err.(*ErrCredentials); ok {
		return &outcome{reason: identityv1alpha1.ReasonTenantNotReady, message: err.Error(), requeueAfter: slowRetry}
	}
	return &outcome{err: err, reason: identityv1alpha1.ReasonTenantNotReady, message: fmt.Sprintf("Connecting to EntraTenant %q failed; phoneop retries", tenant)}
}

func requestIDOf(err error) string {
	var ge *graph.Error
	if e, ok := err.(*graph.Error); ok {
		ge = e
	} else if !asGraphError(err, &ge) {
		return ""
	}
	return ge.RequestID
}

func requestIDSuffix(err error) string {
	if id := requestIDOf(err); id != "" {
		return " (Graph request-id " + id + ")"
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

func asGraphError(err error, target **graph.Error) bool { return errors.As(err, target) }
