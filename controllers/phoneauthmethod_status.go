package controllers

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/conditions"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/plan"
	"github.com/phoneop/phoneop/internal/schedule"
)

// planOutcome turns a successful observation's plan into the outcome.
func planOutcome(s *scope) *outcome {
	r := s.result
	switch {
	case r.Kept:
		return keptExisting(describeKept(s.pam.Spec.PhoneType, r))
	case r.UpToDate():
		if !s.pam.DeletionTimestamp.IsZero() {
			return converged("The phone method is gone from Graph")
		}
		return converged(fmt.Sprintf("The %s phone in Graph matches the spec", s.pam.Spec.PhoneType))
	case r.Wait != nil:
		return blockedBy(r.Wait)
	default:
		// Actions and no wait: converge only stops with pending actions in ObserveOnly (Full
		// applies them first).
		return plannedOnly(fmt.Sprintf("ObserveOnly: phoneop would %s; set spec.managementPolicy to Full to apply", strings.Join(r.Strings(), ", ")))
	}
}

// describeKept says that CreateOnly kept an existing phone, and what Full would have done.
func describeKept(t identityv1alpha1.PhoneType, r plan.Result) string {
	if len(r.Withheld) == 0 {
		return fmt.Sprintf("CreateOnly kept the %s phone already registered in Graph as it is", t)
	}
	return fmt.Sprintf("CreateOnly kept the %s phone already registered in Graph; Full would %s (see status.plannedActions)", t, strings.Join(r.Strings(), ", "))
}

// setStatus turns the pass's facts into status fields and conditions. observedGeneration
// moves only when the pass decided something (no error to retry).
func (r *PhoneAuthMethodReconciler) setStatus(s *scope, before *identityv1alpha1.PhoneAuthMethod) {
	pam, o := s.pam, s.outcome
	if o.deferred {
		return // the pass only learnt "not now": writing that would cost a status write per object
	}
	st := &pam.Status
	if s.observed {
		recordObservation(st, s.methods, pam.Spec.PhoneType)
		st.PlannedActions = s.result.Strings()
		if len(st.PlannedActions) == 0 {
			st.PlannedActions = nil
		}
	}
	if s.guarded {
		st.WriteGuard = guardForStatus(s.guard, o)
	}
	gen := pam.Generation
	if o.paused {
		// observedGeneration stays where the last applied spec left it: a spec changed while
		// paused has not been acted on, and kstatus (Flux's wait, Helm 4's --wait) must not
		// call it Current.
		setPaused(st, gen, o)
		return
	}
	setReadiness(&st.Conditions, gen, o)
	if s.numberChecked {
		setFixedLine(&st.Conditions, gen, s.fixedLine)
	}
	if s.planned {
		setSMSSignInRetiring(&st.Conditions, gen, s.result.Notice)
	}
	if o.synced && o.err == nil {
		conditions.Set(&st.Conditions, gen, identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonSynced, "The last read of Graph (and any writes) succeeded")
	} else {
		conditions.Set(&st.Conditions, gen, identityv1alpha1.ConditionSynced, metav1.ConditionFalse, o.reason, o.message)
	}
	if o.err == nil {
		st.ObservedGeneration = gen
	}
	if o.synced && !equality.Semantic.DeepEqual(before.Status, pam.Status) {
		now := metav1.NewTime(r.now().Truncate(time.Second))
		st.LastSyncTime = &now
	}
}

// guardForStatus is what status.writeGuard keeps of the pass's record: nothing once the object
// is Ready (a later drift is a new story) or when there is nothing to remember.
func guardForStatus(rec identityv1alpha1.WriteGuardStatus, o *outcome) *identityv1alpha1.WriteGuardStatus {
	if o.ready || (len(rec.Writes) == 0 && rec.NumberRefusedAt == nil) {
		return nil
	}
	return rec.DeepCopy()
}

// setPaused reports a paused object: Synced=False (Paused), and neither Reconciling nor Stalled,
// so Argo CD shows it Suspended (never Degraded). Ready depends on whether the spec was applied:
//   - the generation phoneop last acted on (status.observedGeneration) is the current one:
//     Ready keeps what it said, and kstatus reads the object as before the pause;
//   - the spec changed while paused, or the object was never reconciled: Ready=Unknown (Paused)
//     for the new generation, and observedGeneration is not advanced (the caller leaves it), so
//     kstatus says InProgress, `kubectl wait --for=condition=Ready` keeps waiting, and Flux's
//     wait and Helm 4's --wait do not report a spec as applied that never reached Graph.
func setPaused(st *identityv1alpha1.PhoneAuthMethodStatus, gen int64, o *outcome) {
	conds := &st.Conditions
	if st.ObservedGeneration != gen || meta.FindStatusCondition(*conds, identityv1alpha1.ConditionReady) == nil {
		conditions.Set(conds, gen, identityv1alpha1.ConditionReady, metav1.ConditionUnknown, o.reason, pausedBeforeApplied(gen, o.message))
	}
	conditions.ClearProgress(conds)
	conditions.Set(conds, gen, identityv1alpha1.ConditionSynced, metav1.ConditionFalse, o.reason, o.message)
}

// pausedBeforeApplied says, on Ready, why the spec's generation has not reached Graph.
func pausedBeforeApplied(gen int64, why string) string {
	return fmt.Sprintf("%s (generation %d of the spec is not applied to Graph until then)", why, gen)
}

// setFixedLine shows or removes the FixedLine warning condition.
func setFixedLine(conds *[]metav1.Condition, gen int64, fixedLine bool) {
	if !fixedLine {
		meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionFixedLine)
		return
	}
	conditions.Set(conds, gen, identityv1alpha1.ConditionFixedLine, metav1.ConditionTrue, identityv1alpha1.ReasonFixedLineNumber,
		"The number is a fixed line, so SMS sign-in and SMS codes to this phone will fail; use a mobile number")
}

// setSMSSignInRetiring shows or removes the SmsSignInRetiring warning condition. Its own
// condition type, True while the warning holds, because kstatus (Flux, Helm 4's --wait) reads
// only Ready, Reconciling and Stalled and phoneop's Argo CD health check only Ready, Stalled and
// Synced: an object that converges and carries this warning stays Current and Healthy.
func setSMSSignInRetiring(conds *[]metav1.Condition, gen int64, n *plan.Notice) {
	if n == nil {
		meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionSmsSignInRetiring)
		return
	}
	conditions.Set(conds, gen, identityv1alpha1.ConditionSmsSignInRetiring, metav1.ConditionTrue, n.Reason, n.Message)
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
// object comes back on its user's resync schedule (the tenant's sweep period while its change
// feed is healthy).
func (r *PhoneAuthMethodReconciler) resultFor(s *scope) (ctrl.Result, error) {
	o := s.outcome
	switch {
	case s.released || o.paused:
		return ctrl.Result{}, o.err // a paused object wakes when its (or its tenant's) annotation changes
	case o.err != nil:
		return ctrl.Result{}, o.err
	case o.ready:
		return ctrl.Result{RequeueAfter: r.nextResync(s)}, nil
	case o.requeueAfter == 0 && s.observed:
		// Waiting for a spec change (ObserveOnly, a terminal blocker) still re-reads Graph on
		// the resync schedule, so plans and drift stay current.
		return ctrl.Result{RequeueAfter: r.nextResync(s)}, nil
	default:
		return ctrl.Result{RequeueAfter: o.requeueAfter}, nil
	}
}

// nextResync schedules the converged object's next read of Graph on its user's slot of the
// tenant's current period (schedule.Resync).
func (r *PhoneAuthMethodReconciler) nextResync(s *scope) time.Duration {
	return r.resync().Next(s.pam.Spec.TenantRef.Name, s.user.ID, r.now())
}

// resync is the reconciler's resync schedule: --resync-period, stretched for the tenants whose
// change feed is healthy.
func (r *PhoneAuthMethodReconciler) resync() schedule.Resync {
	return schedule.Resync{Period: r.ResyncPeriod, Sweeps: r.Sweeps}
}
