package controllers

import (
	"errors"
	"fmt"
	"time"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// Retry intervals for outcomes that are not errors (errors use the controller's exponential
// backoff instead).
const (
	// userNotFoundRetry: directory replication of a new user takes seconds to minutes.
	userNotFoundRetry = time.Minute
	// slowRetry: waiting on something a watch usually tells us about (tenant, sibling), or on
	// a permission an admin must grant.
	slowRetry = 5 * time.Minute
	// adminRetry: waiting on something an Entra admin must change (SMS policy, a number clash,
	// an unmanaged method): nothing in the cluster announces the fix.
	adminRetry = 10 * time.Minute
)

// outcome is the decision of one pass: what the conditions say and when to come back. It
// describes status and requeue only; what else the pass learned (a Graph error to log, a
// token to drop, a phone that is not ours) are facts on the scope. Build it with the
// constructors below, never as a literal, so that each kind of outcome means one thing.
type outcome struct {
	// ready: Graph matches the spec (or, when deleting, the method is gone).
	ready bool
	// synced: Graph was observed (and written, if needed) without error.
	synced bool
	// stalled: retrying cannot help until a person changes something.
	stalled bool
	// reason and message explain the outcome; the message is one sentence.
	reason, message string
	// requeueAfter: when to look again; zero means on the resync schedule (if Graph was read)
	// or only when something changes.
	requeueAfter time.Duration
	// err: a transient failure, returned to controller-runtime for exponential backoff.
	err error
	// paused: the pass made no Graph call on purpose; Ready keeps what it said before.
	paused bool
	// deferred: the tenant's request budget is spent for now; the object comes back later
	// with its status untouched, so a large onboarding costs no status writes for waiting.
	deferred bool
}

// converged: Graph matches the spec.
func converged(message string) *outcome {
	return &outcome{ready: true, synced: true, reason: identityv1alpha1.ReasonSynced, message: message}
}

// waitingFor: progressing; phoneop looks again after the interval (or when a watch fires).
func waitingFor(reason, message string, after time.Duration) *outcome {
	return &outcome{reason: reason, message: message, requeueAfter: after}
}

// stalledOn: a person must change something; phoneop still looks again after the interval
// (zero: when the object changes, or on the resync schedule), because the fix may happen
// outside Kubernetes.
func stalledOn(reason, message string, after time.Duration) *outcome {
	return &outcome{reason: reason, message: message, stalled: true, requeueAfter: after}
}

// retrying: a transient failure, retried with the controller's exponential backoff.
func retrying(reason, message string, err error) *outcome {
	return &outcome{reason: reason, message: message, err: err}
}

// kubernetesAPIFailed: a read or write against the API server failed. It has a reason of its
// own so that an alert on a real condition (Conflict, Forbidden, …) never fires for an API
// server blip.
func kubernetesAPIFailed(err error, doing string) *outcome {
	return retrying(identityv1alpha1.ReasonKubernetesAPIError,
		fmt.Sprintf("The Kubernetes API failed while %s; phoneop retries with backoff", doing), err)
}

// blockedBy: Graph was read, and the plan cannot proceed. How severe that is comes from the
// planner's blocker kind, never from the reason string.
func blockedBy(b *plan.Blocker) *outcome {
	o := &outcome{synced: true, reason: b.Reason, message: b.Message}
	o.stalled, o.requeueAfter, _ = severityOf(b.Kind)
	return o
}

// severityOf maps a blocker kind to whether a person must act and when to look again; known is
// false for a kind this function does not handle (a test checks every plan.BlockerKinds), which
// then counts as stalled so that nobody waits on it unknowingly.
func severityOf(k plan.BlockerKind) (stalled bool, after time.Duration, known bool) {
	switch k {
	case plan.WaitsForSibling:
		return false, slowRetry, true // the sibling watch is the fast path
	case plan.UnknownGraphState:
		return false, slowRetry, true
	case plan.NeedsEntraAdmin:
		return true, adminRetry, true
	case plan.NeedsSpecChange:
		return true, 0, true // the spec change wakes the object; the resync keeps reading Graph
	}
	return true, slowRetry, false
}

// pausedBy: phoneop.dev/paused stops every Graph call for the object. Neither progressing nor
// failed: Ready is left as it was, and removing the annotation wakes the object.
func pausedBy(message string) *outcome {
	return &outcome{paused: true, reason: identityv1alpha1.ReasonPaused, message: message}
}

// deferredFor: the Graph call was not sent because the tenant's token buckets would have held
// the worker too long; the object is requeued instead, and nothing about it changed.
func deferredFor(after time.Duration) *outcome {
	return &outcome{deferred: true, reason: identityv1alpha1.ReasonThrottled, requeueAfter: max(after, time.Second)}
}

// keptExisting: CreateOnly found a phone already registered and left it as it is. Ready: the
// policy's goal (never overwrite) is met.
func keptExisting(message string) *outcome {
	return &outcome{ready: true, synced: true, reason: identityv1alpha1.ReasonExistingPhoneKept, message: message}
}

// plannedOnly: ObserveOnly found differences and wrote nothing.
func plannedOnly(message string) *outcome {
	return &outcome{synced: true, reason: identityv1alpha1.ReasonPlanned, message: message}
}

// smsSignInRefused: Graph answered enableSmsSignIn with 400. Before the retirement Graph reports
// what stands in the way through smsSignInState (the planner reads it before any call), so a
// refusal of the call itself most likely means SMS sign-in is retired already although
// phoneop's date says otherwise (Microsoft moved it, or the flag disables it). It waits for an
// admin, retried slowly, so it never loops.
func smsSignInRefused() *outcome {
	return stalledOn(identityv1alpha1.ReasonSmsSignInRefused,
		"Graph refused to enable SMS sign-in, as it does once SMS sign-in is retired in the tenant's cloud; set smsSignIn to Disabled or remove it, and if Microsoft retired it earlier than phoneop expects, set --sms-sign-in-retirement (Helm smsSignInRetirement)",
		adminRetry)
}

// graphOutcome classifies a Graph failure (the client's Class) into an outcome. Messages carry
// neither Graph's request-id nor a countdown: both change on every retry, and a condition that
// changes on every retry costs a status write per retry. The request-id goes to the log and to
// the Warning event of the transition instead (see scope.graphErr).
func graphOutcome(err error, doing string) *outcome {
	if graph.IsTokenFailure(err) {
		return tokenOutcome(err, doing)
	}
	switch graph.ClassOf(err) {
	case graph.Throttled:
		return waitingFor(identityv1alpha1.ReasonThrottled,
			fmt.Sprintf("Graph is throttling the tenant while %s; phoneop resumes after Graph's Retry-After", doing),
			max(graph.RetryAfterOf(err), time.Second))
	case graph.Forbidden:
		return stalledOn(identityv1alpha1.ReasonForbidden,
			fmt.Sprintf("Graph denied %s: grant the app UserAuthenticationMethod.ReadWrite.All (or UserAuthMethod-Phone.ReadWrite.All) and User.Read.All with admin consent", doing),
			slowRetry)
	case graph.Unauthorized:
		return waitingFor(identityv1alpha1.ReasonTenantNotReady,
			fmt.Sprintf("Graph rejected the tenant's token while %s; check the EntraTenant's credentials", doing), time.Minute)
	case graph.Terminal:
		return stalledOn(identityv1alpha1.ReasonGraphError,
			fmt.Sprintf("Graph refused %s as invalid; check the spec, phoneop retries slowly", doing), slowRetry)
	}
	return retrying(identityv1alpha1.ReasonGraphError, fmt.Sprintf("Graph failed while %s; phoneop backs off and retries", doing), err)
}

// tokenOutcome explains a call that never reached Graph because the tenant's authority gave
// no token: unreachable or failing (retried with backoff), or refusing the credential.
func tokenOutcome(err error, doing string) *outcome {
	if graph.ClassOf(err) == graph.Transient {
		return retrying(identityv1alpha1.ReasonTenantNotReady,
			fmt.Sprintf("Getting a token from the tenant's login endpoint (Entra ID) failed while %s; Graph was not called, and phoneop retries with backoff", doing), err)
	}
	return waitingFor(identityv1alpha1.ReasonTenantNotReady,
		fmt.Sprintf("The tenant's login endpoint refused a token for phoneop's credential while %s; check the EntraTenant's credentials and the app registration", doing), time.Minute)
}

// connectOutcome explains a failed tenant connection: credentials a person must fix, or a
// failed read of their Secret.
func connectOutcome(err error) *outcome {
	if credErr := (*tenantconn.ErrCredentials)(nil); errors.As(err, &credErr) {
		return waitingFor(identityv1alpha1.ReasonTenantNotReady, err.Error(), slowRetry)
	}
	return kubernetesAPIFailed(err, "reading the EntraTenant's credential Secret")
}

// requestIDOf returns Graph's request-id of a failed call, for logs, events and support cases.
func requestIDOf(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.RequestID
	}
	return ""
}
