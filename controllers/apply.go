package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
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
	// writesNumber: Graph refusing this write as invalid means the number is invalid.
	writesNumber bool
}

// graphWrites is every Graph write phoneop makes, by planned action. Adding a Graph operation
// means a plan.ActionKind, a row here, and its event reason in the API.
var graphWrites = map[plan.ActionKind]graphWrite{
	plan.Create: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return c.CreatePhoneMethod(ctx, userID, string(a.PhoneType), a.Number)
		},
		event: identityv1alpha1.ReasonCreated, after: takeResponse, writesNumber: true,
	},
	plan.UpdateNumber: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return graph.PhoneMethod{}, c.UpdatePhoneNumber(ctx, userID, a.MethodID, string(a.PhoneType), a.Number)
		},
		event: identityv1alpha1.ReasonNumberUpdated, after: reobserveAndEndRound, writesNumber: true,
	},
	plan.Delete: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			if err := c.DeletePhoneMethod(ctx, userID, a.MethodID); err != nil && !graph.IsNotFound(err) {
				return graph.PhoneMethod{}, err
			}
			return graph.PhoneMethod{}, nil // gone, or already gone: the goal is met
		},
		event: identityv1alpha1.ReasonDeleted, after: takeResponse,
	},
	plan.EnableSMS: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return graph.PhoneMethod{}, c.EnableSMSSignIn(ctx, userID, a.MethodID)
		},
		event: identityv1alpha1.ReasonSmsSignInEnabled, after: reobserve,
	},
	plan.DisableSMS: {
		call: func(ctx context.Context, c graph.PhoneMethodWriter, userID string, a plan.Action) (graph.PhoneMethod, error) {
			return graph.PhoneMethod{}, c.DisableSMSSignIn(ctx, userID, a.MethodID)
		},
		event: identityv1alpha1.ReasonSmsSignInDisabled, after: reobserve,
	},
}

// apply performs the plan's writes in order, until one ends the round. An ambiguous or
// conflicting write is followed by a re-read in the next round, never by a repeated POST. It
// returns nil to continue with the next round.
func (r *PhoneAuthMethodReconciler) apply(ctx context.Context, s *scope) *outcome {
	for _, a := range s.result.Actions {
		w, known := graphWrites[a.Kind]
		if !known {
			return stalledOn(identityv1alpha1.ReasonGraphError, "phoneop planned a Graph write it cannot make; report this as a bug", slowRetry)
		}
		answer, err := w.call(ctx, s.conn.Client, s.user.ID, a)
		r.Observer.Invalidate(s.conn.TenantID, s.user.ID)
		if err != nil {
			return r.writeFailed(ctx, s, a, w, err)
		}
		r.Recorder.Eventf(s.pam, nil, corev1.EventTypeNormal, w.event, string(a.Kind), "%s", a.String())
		switch w.after {
		case takeResponse:
			s.methods = append(withoutType(s.methods, string(a.PhoneType)), answered(answer)...)
			return nil
		case reobserveAndEndRound:
			s.observed = false
			return nil
		case reobserve:
			s.observed = false
		}
	}
	return nil
}

// writeFailed decides what a failed write means. When the write may have happened, or Graph's
// state is not what the plan assumed (ambiguous, 409, 404), the next round re-reads and plans
// again rather than guess; anything else ends the pass.
func (r *PhoneAuthMethodReconciler) writeFailed(ctx context.Context, s *scope, a plan.Action, w graphWrite, err error) *outcome {
	if graph.IsAmbiguous(err) || graph.IsConflict(err) || graph.IsNotFound(err) {
		ctrl.LoggerFrom(ctx).Info("Graph write outcome unknown; re-reading before deciding", "action", a.Kind, "requestID", requestIDOf(err))
		s.observed = false
		return nil
	}
	o := s.graphFailed(err, "applying "+string(a.Kind))
	if graph.IsTerminal(err) && w.writesNumber {
		return stalledOn(identityv1alpha1.ReasonInvalidNumber,
			"Graph rejected the phone number as invalid; fix spec.phoneNumber (or the Secret it names)", o.requeueAfter)
	}
	return o
}

// answered is the method a write answered with, if it answered with one.
func answered(m graph.PhoneMethod) []graph.PhoneMethod {
	if m.ID == "" && m.PhoneType == "" {
		return nil
	}
	return []graph.PhoneMethod{m}
}

func withoutType(methods []graph.PhoneMethod, phoneType string) []graph.PhoneMethod {
	out := make([]graph.PhoneMethod, 0, len(methods))
	for _, m := range methods {
		if m.PhoneType != phoneType {
			out = append(out, m)
		}
	}
	return out
}
