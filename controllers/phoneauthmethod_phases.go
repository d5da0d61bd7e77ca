package controllers

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// scope carries what one reconcile learned, phase by phase; the deferred status update turns
// these facts into conditions.
type scope struct {
	// pam is the object; its status is updated in place.
	pam *identityv1alpha1.PhoneAuthMethod
	// priorReady: the object was Ready for its current generation before this pass.
	priorReady bool
	// wasReady: the object was Ready before this pass, for whichever generation; false while
	// it converges for the first time (onboarding), when a new phone is no news (events.go).
	wasReady bool
	// tenant and conn are set by resolveTenant; nil until then.
	tenant *identityv1alpha1.EntraTenant
	conn   *tenantconn.Connection
	// namespaceLabels are the labels of the object's namespace, set by resolveTenant.
	namespaceLabels map[string]string
	// user is set by resolveUser; userFresh: Graph was asked for it in this pass (not the
	// cache), so a destructive write need not ask again.
	user      graph.User
	userFresh bool
	// number is the desired number (spec or Secret), set by desiredNumber.
	number string
	// numberChecked: desiredNumber ran; fixedLine: number is a fixed line although the object
	// is a mobile or alternateMobile. The FixedLine condition changes only when checked, so a
	// pass that stops earlier (tenant not Ready) does not make it flap.
	numberChecked, fixedLine bool
	// methods is the latest observation of the user's phone methods; observed tells whether
	// an observation happened at all.
	methods  []graph.PhoneMethod
	observed bool
	// result is the latest plan; planned tells whether converge made one in this pass (the
	// SmsSignInRetiring condition changes only then, so a pass that stops earlier does not
	// make it flap).
	result  plan.Result
	planned bool
	// createdPhone: this pass created the object's phone in Graph (set by apply as the create
	// succeeds), so SMS sign-in written after it is part of the new phone, not a change to an
	// existing one: it spends no destructive budget (budgetPoolOf) and records no Event.
	createdPhone bool
	// guard is the object's record of its writes for this generation (internal/writeguard), loaded by
	// converge and kept up to date by apply; guarded tells whether converge loaded it, and so
	// whether status.writeGuard is written.
	guard   identityv1alpha1.WriteGuardStatus
	guarded bool
	// outcome is the decision of the pass: status and requeue.
	outcome *outcome

	// Facts the pass learned besides the outcome, acted on by the spine.

	// graphErr is the Graph failure behind the outcome, logged with its request-id and named in
	// the Warning event of the transition.
	graphErr error
	// reconnect: Graph rejected the tenant's token; drop the connection so that the next pass
	// reloads the credentials.
	reconnect bool
	// notOurs: the phone is not this object's to delete (tenant or user gone, grant refused,
	// another object owns it); a deletion releases the finalizer without touching Graph.
	notOurs bool
	// released: the finalizer was removed; no status write.
	released bool
}

// graphFailed records a Graph failure on the scope and returns its outcome.
func (s *scope) graphFailed(err error, doing string) *outcome {
	if graph.IsClientThrottled(err) {
		return deferredFor(graph.RetryAfterOf(err)) // nothing was sent, nothing failed
	}
	s.graphErr = err
	s.reconnect = graph.ClassOf(err) == graph.Unauthorized
	return graphOutcome(err, doing)
}

// notOursBecause records that the phone is not this object's to delete, and returns o.
func (s *scope) notOursBecause(o *outcome) *outcome {
	s.notOurs = true
	return o
}

// errGraphNotSettled is returned (for backoff) when the apply rounds run out.
var errGraphNotSettled = errors.New("graph has not settled after several writes")

// maxApplyRounds bounds observe → plan → apply rounds in one pass: a number write, then SMS
// sign-in, then a confirming read, with one spare for a re-read after an ambiguous write.
const maxApplyRounds = 4

// reconcileNormal converges Graph to the spec.
func (r *PhoneAuthMethodReconciler) reconcileNormal(ctx context.Context, s *scope) *outcome {
	for _, phase := range []func(context.Context, *scope) *outcome{
		r.resolveTenant, // the EntraTenant exists, is Ready and grants this namespace
		r.waitForBudget, // still waiting for the change budget: no Graph read, no Secret read
		r.desiredNumber, // the number from the spec or the Secret
		r.resolveUser,   // the user's object id (and UPN for the domain scope)
		r.checkUserKind, // no guest or privileged user unless the tenant allows them
		r.checkOwner,    // no older object owns the same (tenant, user, phoneType)
	} {
		if o := phase(ctx, s); o != nil {
			return o
		}
	}
	return r.converge(ctx, s)
}

// reconcileDelete honours deletionPolicy and releases the finalizer. It never hangs on a
// tenant or user that is gone, and never lets an object that does not own the phone (or is not
// granted the user) delete it. A deleting object is still there only when it carries the
// finalizer (finalizer.go): deletionPolicy Delete, one switched to Orphan (or to a policy that
// never deletes) while being deleted, or one from a phoneop that put it on every object; the
// last two are released with an Orphaned event.
func (r *PhoneAuthMethodReconciler) reconcileDelete(ctx context.Context, s *scope) *outcome {
	pam := s.pam
	if !controllerutil.ContainsFinalizer(pam, identityv1alpha1.Finalizer) {
		s.released = true
		return converged("")
	}
	if pam.Spec.DeletionPolicy != identityv1alpha1.DeletionPolicyDelete || !mayDelete(pam.Spec.ManagementPolicy) {
		return r.release(ctx, s, "The phone method was left in Graph (deletionPolicy Orphan, or managementPolicy ObserveOnly or CreateOnly, which never delete)")
	}
	if pam.Status.UserID == "" && pam.Status.PhoneMethodID == "" {
		return r.release(ctx, s, "Nothing to delete: phoneop never created or found this phone method")
	}
	for _, phase := range []func(context.Context, *scope) *outcome{r.resolveTenant, r.waitForBudget, r.resolveUser, r.checkUserKind, r.checkOwner} {
		if o := phase(ctx, s); o != nil {
			return r.releaseIfNotOurs(ctx, s, o)
		}
	}
	o := r.converge(ctx, s)
	if !o.ready {
		return r.releaseIfNotOurs(ctx, s, o)
	}
	return r.release(ctx, s, "") // the Deleted event of the Graph write already tells the story
}

// mayDelete reports whether the management policy lets phoneop delete the phone: only Full
// (the default, also when the field is empty) does.
func mayDelete(p identityv1alpha1.ManagementPolicy) bool {
	return p == identityv1alpha1.ManagementPolicyFull || p == ""
}

// releaseIfNotOurs releases the finalizer without touching Graph when the outcome proves the
// phone is not this object's to delete (tenant or user gone, grant refused, another owner);
// any other outcome, a transient error included, is returned to be retried.
func (r *PhoneAuthMethodReconciler) releaseIfNotOurs(ctx context.Context, s *scope, o *outcome) *outcome {
	if s.notOurs && o.err == nil {
		return r.release(ctx, s, "The phone method was not deleted from Graph: "+o.message)
	}
	return o
}

// release removes the finalizer; orphanedBecause, when set, is recorded as an Orphaned event
// saying why the phone method was left in Graph.
func (r *PhoneAuthMethodReconciler) release(ctx context.Context, s *scope, orphanedBecause string) *outcome {
	if orphanedBecause != "" {
		r.Recorder.Eventf(s.pam, nil, corev1.EventTypeNormal, identityv1alpha1.ReasonOrphaned, "Delete", "%s", orphanedBecause)
	}
	unchanged := s.pam.DeepCopy()
	controllerutil.RemoveFinalizer(s.pam, identityv1alpha1.Finalizer)
	if err := r.patchFinalizers(ctx, unchanged, s.pam); err != nil && !apierrors.IsNotFound(err) {
		return kubernetesAPIFailed(err, "removing the finalizer")
	}
	s.released = true
	return converged("The phone method is released")
}
