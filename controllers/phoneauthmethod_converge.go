package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
	"github.com/phoneop/phoneop/internal/writeguard"
)

// converge runs observe → plan → apply rounds until the plan is empty, blocked, or (in
// ObserveOnly) merely reported.
func (r *PhoneAuthMethodReconciler) converge(ctx context.Context, s *scope) *outcome {
	pam := s.pam
	fresh, later := r.forcedReadDecision(s)
	if later != nil {
		return later
	}
	siblingAlternate, err := r.alternateObjectExists(ctx, s)
	if err != nil {
		return kubernetesAPIFailed(err, "listing the user's other PhoneAuthMethods")
	}
	s.guard, s.guarded = r.writes.Load(pam), true
	policy := r.planPolicy(s)
	for round := 0; round < maxApplyRounds; round++ {
		if !s.observed || fresh {
			if o := r.observe(ctx, s, fresh); o != nil {
				return o
			}
			fresh = false
		}
		if round == 0 {
			if wait := r.comparisonWait(s); wait > 0 {
				return comparisonLater(wait, r.Comparisons.Interval)
			}
		}
		desired := desiredFrom(s, s.createdPhone)
		observed := r.observedFrom(s, siblingAlternate)
		s.result, s.planned = plan.Plan(desired, observed, policy), true
		observeOnly := pam.Spec.ManagementPolicy == identityv1alpha1.ManagementPolicyObserveOnly
		if round == 0 && s.priorReady && len(s.result.Actions) > 0 && !desired.Deleting && !observeOnly && graphChangedSinceStatus(pam, s.methods) {
			// The writes that follow get events of their own; this one says why they happen.
			r.Recorder.Eventf(pam, nil, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, "Observe",
				"Graph's %s phone no longer matched the spec (changed outside phoneop); phoneop is putting it back", pam.Spec.PhoneType)
		}
		if len(s.result.Actions) == 0 || observeOnly {
			return planOutcome(s)
		}
		did, o := r.apply(ctx, s, observed)
		if o != nil {
			return o
		}
		if did.reread {
			s.observed = false
		} else {
			s.methods = did.methods
		}
	}
	// An error, not a short requeue: if Graph keeps answering writes without settling, the
	// controller's backoff must slow us down.
	return retrying(identityv1alpha1.ReasonGraphNotSettled, "Graph has not settled after several writes; phoneop backs off and re-reads",
		errGraphNotSettled)
}

// planPolicy is what the tenant's cloud allows now: SMS sign-in management at all (not in
// China), and until when (the cloud's SMS sign-in retirement, at the reconciler's clock).
func (r *PhoneAuthMethodReconciler) planPolicy(s *scope) plan.Policy {
	cloud := identityv1alpha1.Cloud(s.conn.Cloud) // the same names: names_test.go
	return plan.Policy{SMSSignInSupported: s.conn.Cloud.SupportsSMSSignIn(),
		SMSSignInRetiresAt: r.SMSSignInRetirement.For(cloud), Now: r.now()}
}

// observe reads the user's phone methods through the Observer (one read shared by the user's
// objects; fresh skips its cache) into the scope.
func (r *PhoneAuthMethodReconciler) observe(ctx context.Context, s *scope, fresh bool) *outcome {
	methods, err := r.Observer.List(ctx, s.conn.Client, s.conn.TenantID, s.user.ID, fresh)
	if err != nil {
		if graph.IsNotFound(err) {
			return r.userGone(s, err)
		}
		return s.graphFailed(err, "reading the user's phone methods")
	}
	s.methods, s.observed = methods, true
	return nil
}

// userGone: Graph says the resolved user does not exist any more. The cached user goes (a
// user found again under the spec's UPN is compared with the bound id, resolveUser), and the
// phone is not this object's to touch.
func (r *PhoneAuthMethodReconciler) userGone(s *scope, err error) *outcome {
	r.Users.Forget(s.conn.TenantID, s.user.ID)
	s.graphErr = err
	return s.notOursBecause(waitingFor(identityv1alpha1.ReasonUserNotFound,
		fmt.Sprintf("Graph has no user %q any more; phoneop retries", s.pam.Spec.User), userNotFoundRetry))
}

// desiredFrom turns the spec into the planner's input; created tells that this pass created
// the method (CreateOnly may still set its SMS sign-in).
func desiredFrom(s *scope, created bool) plan.Desired {
	pam := s.pam
	d := plan.Desired{PhoneType: plan.PhoneType(pam.Spec.PhoneType), Number: s.number, Deleting: !pam.DeletionTimestamp.IsZero(),
		CreateOnly: pam.Spec.ManagementPolicy == identityv1alpha1.ManagementPolicyCreateOnly, CreatedThisPass: created}
	if pam.Spec.SMSSignIn != nil {
		d.SMSSignIn = plan.SMSSignIn(*pam.Spec.SMSSignIn)
	}
	return d
}

// alternateObjectExists reports, for a mobile being deleted, whether the user's alternateMobile
// object still exists: Graph refuses to delete a mobile while an alternate exists, so the
// alternate object goes first.
func (r *PhoneAuthMethodReconciler) alternateObjectExists(ctx context.Context, s *scope) (bool, error) {
	pam := s.pam
	if pam.DeletionTimestamp.IsZero() || pam.Spec.PhoneType != identityv1alpha1.PhoneTypeMobile {
		return false, nil
	}
	siblings, err := r.objectsOfUser(ctx, pam)
	if err != nil {
		return false, err
	}
	for i := range siblings {
		if siblings[i].Spec.PhoneType != identityv1alpha1.PhoneTypeAlternateMobile {
			continue
		}
		if granted, err := r.namespaceGranted(ctx, s.tenant, siblings[i].Namespace); err != nil || granted {
			return granted, err
		}
	}
	return false, nil
}

// observedFrom is the planner's input: the observation, and the object's record of its own
// writes (the planner decides from it whether a write may be repeated).
func (r *PhoneAuthMethodReconciler) observedFrom(s *scope, siblingAlternate bool) plan.Observed {
	o := observedMethods(s.methods, siblingAlternate)
	o.WritesMade = s.guard.Writes
	o.StatusKey = r.StatusKey
	o.NumberWriteRefused = writeguard.RefusedSince(s.guard, r.now().Add(-adminRetry))
	return o
}

// observedMethods converts Graph's answer to the planner's input.
func observedMethods(methods []graph.PhoneMethod, siblingAlternate bool) plan.Observed {
	o := plan.Observed{SiblingAlternateExists: siblingAlternate}
	for _, m := range methods {
		o.Methods = append(o.Methods, plan.Method{ID: m.ID, PhoneType: plan.PhoneType(m.PhoneType), Number: m.PhoneNumber, SMSSignInState: m.SMSSignInState})
	}
	return o
}

// graphChangedSinceStatus reports whether Graph's view of the object's phone differs from what
// status last recorded: then a plan with actions on a Ready object is drift (someone changed
// Graph), not a new desired number (e.g. a rotated phoneNumberFrom Secret).
func graphChangedSinceStatus(pam *identityv1alpha1.PhoneAuthMethod, methods []graph.PhoneMethod) bool {
	var now identityv1alpha1.PhoneAuthMethodStatus
	recordObservation(&now, methods, pam.Spec.PhoneType)
	st := pam.Status
	return now.PhoneMethodID != st.PhoneMethodID || now.PhoneNumber != st.PhoneNumber || now.SMSSignInState != st.SMSSignInState
}

// forcedResync reports whether the reconcile-requested-at annotation asks for a fresh read.
func forcedResync(pam *identityv1alpha1.PhoneAuthMethod) bool {
	v, ok := pam.Annotations[identityv1alpha1.AnnotationReconcileRequestedAt]
	return ok && v != pam.Status.LastHandledReconcileAt
}
