package controllers

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/phoneop/phoneop/internal/plan"
)

// Which Graph writes get a Normal Event. An Event is one more API-server write, and no
// aggregation saves it: client-go's series (and the legacy correlator's aggregation and spam
// filter) only fold repeats about the same object, so onboarding N objects with one Event each
// costs N Event writes whatever the recorder does. An Event is therefore kept for what a person
// reading `kubectl describe` cannot tell from the spec and a Ready status:
//   - a number replaced (NumberUpdated) or a phone removed (Deleted): what the user had is gone;
//   - a phone re-created, or SMS sign-in changed, on an object that had converged: a spec
//     change took effect, or someone changed Graph (DriftCorrected says so first);
//   - every Warning (transitions, FixedLineNumber, DriftCorrected) and Orphaned.
//
// Not for the phone a new object asked for: creating it (Created) while the object converges
// for the first time, and setting SMS sign-in on the phone the same pass created. Ready=True,
// status.phoneMethodId and lastSyncTime say it; Entra's audit log records every registration
// with phoneop's app as the initiator, and is the audit trail (Events expire after an hour and
// are best effort). Adopting a phone that is already in place (or ObserveOnly) writes nothing to
// Graph, and so records no Event either.

// writeIsNews reports whether a Graph write of kind deserves an Event: wasReady tells that the
// object had converged before this pass, createdPhone that this pass created its phone.
func writeIsNews(kind plan.ActionKind, wasReady, createdPhone bool) bool {
	switch kind {
	case plan.Create:
		return wasReady // a converged object's phone was gone: re-created
	case plan.EnableSMS, plan.DisableSMS:
		return !createdPhone // on an existing phone, not on the one just created
	}
	return true // a number replaced or a phone removed
}

// recordWriteEvent records the Normal Event of a Graph write Graph accepted, when it is news.
func (r *PhoneAuthMethodReconciler) recordWriteEvent(s *scope, a plan.Action, reason string) {
	if !writeIsNews(a.Kind, s.wasReady, s.createdPhone) {
		return
	}
	r.Recorder.Eventf(s.pam, nil, corev1.EventTypeNormal, reason, string(a.Kind), "%s", a.String())
}
