package controllers

import (
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/observe"
)

// The rate rails of one pass (internal/pace): a forced re-read is honoured within the object's
// and its namespace's rates, and in ObserveOnly and CreateOnly a new desired number is compared
// with Graph's at most once per comparison interval per phone.

// forcedReadDecision says what to do with the pass's reconcile-requested-at request: fresh
// (read Graph now, past the Observer's cache), or not, and, when the request must wait, the
// outcome that holds a steady object until then (nil: the pass goes on from the cache).
func (r *PhoneAuthMethodReconciler) forcedReadDecision(s *scope) (fresh bool, later *outcome) {
	pam := s.pam
	if !forcedResync(pam) {
		return false, nil
	}
	wait := time.Duration(0)
	if r.ForcedReads != nil {
		wait = r.ForcedReads.Take(pam.Namespace, string(pam.UID), r.now())
	}
	if wait == 0 {
		pam.Status.LastHandledReconcileAt = pam.Annotations[identityv1alpha1.AnnotationReconcileRequestedAt]
		return true, nil
	}
	if !s.priorReady {
		// The object has work to do anyway: this pass reads as any pass would (the Observer's
		// cache when recent), and the request stays pending for a later pass.
		return false, nil
	}
	r.noteForcedReadDeferred(pam, wait)
	return false, forcedReadLater(jittered(wait))
}

// noteForcedReadDeferred records one Normal event per object per interval (not one per
// request, which a loop of annotations would turn into an event storm).
func (r *PhoneAuthMethodReconciler) noteForcedReadDeferred(pam *identityv1alpha1.PhoneAuthMethod, wait time.Duration) {
	if r.forcedReadNotices.Take(string(pam.UID), r.now()) > 0 {
		return
	}
	r.Recorder.Eventf(pam, nil, corev1.EventTypeNormal, identityv1alpha1.ReasonForcedReadDeferred, "Observe",
		"A forced re-read came too soon after the last one for this object or its namespace; status shows phoneop's last read of Graph, and phoneop reads Graph again in about %s", wait.Round(time.Second))
}

// forcedReadLater holds a steady object whose forced re-read must wait: status untouched (it is
// phoneop's last read), back when the read is allowed.
func forcedReadLater(after time.Duration) *outcome {
	return &outcome{deferred: true, reason: identityv1alpha1.ReasonForcedReadDeferred, requeueAfter: max(after, time.Second)}
}

// jittered spreads the objects a namespace's empty bucket sent back at one moment over a
// quarter of their wait, so that they do not all return at once.
func jittered(d time.Duration) time.Duration {
	return d + rand.N(d/4+1)
}

// comparisonWait is how long this pass must wait before comparing the desired number with
// Graph's: only in ObserveOnly and CreateOnly (where Ready, not a write, answers whether they
// match), only when Graph has a phone of the type to compare with, and only for a desired
// number other than the last one compared for this phone (pace.Comparisons).
func (r *PhoneAuthMethodReconciler) comparisonWait(s *scope) time.Duration {
	pam := s.pam
	policy := pam.Spec.ManagementPolicy
	if r.Comparisons == nil || !pam.DeletionTimestamp.IsZero() ||
		(policy != identityv1alpha1.ManagementPolicyObserveOnly && policy != identityv1alpha1.ManagementPolicyCreateOnly) ||
		observe.MethodOfType(s.methods, string(pam.Spec.PhoneType)) == nil {
		return 0
	}
	phone := s.conn.TenantID + "/" + s.user.ID + "/" + string(pam.Spec.PhoneType)
	return r.Comparisons.Take(phone, r.StatusKey.Sum(s.number), r.now())
}

// comparisonLater: the new number is compared once the interval has passed. The message has no
// countdown (a message that changes per retry costs a status write per retry).
func comparisonLater(after time.Duration, interval time.Duration) *outcome {
	return waitingFor(identityv1alpha1.ReasonComparisonDeferred,
		fmt.Sprintf("The number in the spec changed less than %s after phoneop last compared a new number with Graph's for this phone; phoneop compares it when that time has passed (a limit that keeps the spec from testing guesses of the number)", interval),
		max(after, time.Second))
}
