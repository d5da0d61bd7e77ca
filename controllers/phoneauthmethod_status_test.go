package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
)

// TestStatusForOutcome maps every outcome constructor to the conditions it writes and the
// kstatus that Flux and `kubectl wait` derive from them.
func TestStatusForOutcome(t *testing.T) {
	cases := map[string]struct {
		outcome *outcome
		// expected outputs
		wantReady       metav1.ConditionStatus
		wantSynced      metav1.ConditionStatus
		wantKstatus     status.Status
		wantObservedGen int64
	}{
		"converged": {outcome: converged("ok"),
			wantReady: metav1.ConditionTrue, wantSynced: metav1.ConditionTrue, wantKstatus: status.CurrentStatus, wantObservedGen: 2},
		"a sibling wait is progress": {outcome: blockedBy(&plan.Blocker{Kind: plan.WaitsForSibling, Reason: plan.ReasonMobileRequired, Message: "wait"}),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionTrue, wantKstatus: status.InProgressStatus, wantObservedGen: 2},
		"an unknown Graph state is progress": {outcome: blockedBy(&plan.Blocker{Kind: plan.UnknownGraphState, Reason: plan.ReasonSmsSignInStateUnknown, Message: "hm"}),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionTrue, wantKstatus: status.InProgressStatus, wantObservedGen: 2},
		"a blocker an Entra admin must clear is stalled": {outcome: blockedBy(&plan.Blocker{Kind: plan.NeedsEntraAdmin, Reason: plan.ReasonSmsNotAllowedByPolicy, Message: "admin"}),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionTrue, wantKstatus: status.FailedStatus, wantObservedGen: 2},
		"a blocker only a spec change clears is stalled": {outcome: blockedBy(&plan.Blocker{Kind: plan.NeedsSpecChange, Reason: plan.ReasonInvalidNumber, Message: "fix"}),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionTrue, wantKstatus: status.FailedStatus, wantObservedGen: 2},
		"ObserveOnly differences are progress": {outcome: plannedOnly("would create"),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionTrue, wantKstatus: status.InProgressStatus, wantObservedGen: 2},
		"waiting is progress without a sync": {outcome: waitingFor(identityv1alpha1.ReasonThrottled, "later", time.Second),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.InProgressStatus, wantObservedGen: 2},
		"a conflict is stalled": {outcome: stalledOn(identityv1alpha1.ReasonConflict, "owned elsewhere", slowRetry),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.FailedStatus, wantObservedGen: 2},
		"a transient error keeps the old observedGeneration": {outcome: retrying(identityv1alpha1.ReasonGraphError, "retry", errors.New("503")),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.InProgressStatus, wantObservedGen: 1},
		"a Kubernetes API failure is retried under its own reason": {outcome: kubernetesAPIFailed(errors.New("etcd timeout"), "listing"),
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.InProgressStatus, wantObservedGen: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			pam.Status.ObservedGeneration = 1
			r := &PhoneAuthMethodReconciler{Now: func() time.Time { return time.Unix(1700000000, 0) }}
			s := &scope{pam: pam, outcome: tc.outcome}
			r.setStatus(s, pam.DeepCopy())

			ready := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionReady)
			if ready == nil || ready.Status != tc.wantReady || ready.Reason != tc.outcome.reason {
				t.Errorf("Ready = %+v, want %s with reason %s", ready, tc.wantReady, tc.outcome.reason)
			}
			if c := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionSynced); c == nil || c.Status != tc.wantSynced {
				t.Errorf("Synced = %+v, want %s", c, tc.wantSynced)
			}
			if pam.Status.ObservedGeneration != tc.wantObservedGen {
				t.Errorf("observedGeneration = %d, want %d", pam.Status.ObservedGeneration, tc.wantObservedGen)
			}
			assertKstatusInvariants(t, pam)
			if got := kstatusOf(t, pam); got != tc.wantKstatus {
				t.Errorf("kstatus = %s, want %s", got, tc.wantKstatus)
			}
		})
	}
}

// TestEveryBlockerKindHasASeverity: a kind the controller does not handle would count as
// stalled by default; every kind the planner declares must be handled on purpose.
func TestEveryBlockerKindHasASeverity(t *testing.T) {
	for _, k := range plan.BlockerKinds {
		if _, _, known := severityOf(k); !known {
			t.Errorf("blocker kind %s has no severity in severityOf", k)
		}
	}
}

func TestGraphOutcome(t *testing.T) {
	cases := map[string]struct {
		err         error
		wantReason  string
		wantStalled bool
		wantRetry   bool // returned as an error for the controller's backoff
		wantAfter   time.Duration
	}{
		"throttled waits for Retry-After": {err: &graph.Error{Status: 429, Class: graph.Throttled, RetryAfter: 7 * time.Second, RequestID: "r1"},
			wantReason: identityv1alpha1.ReasonThrottled, wantAfter: 7 * time.Second},
		"forbidden retries slowly and stalls": {err: &graph.Error{Status: 403, Class: graph.Forbidden},
			wantReason: identityv1alpha1.ReasonForbidden, wantStalled: true, wantAfter: slowRetry},
		"a bad request stalls and retries slowly": {err: &graph.Error{Status: 400, Class: graph.Terminal},
			wantReason: identityv1alpha1.ReasonGraphError, wantStalled: true, wantAfter: slowRetry},
		"an unauthorized token re-connects": {err: &graph.Error{Status: 401, Class: graph.Unauthorized},
			wantReason: identityv1alpha1.ReasonTenantNotReady, wantAfter: time.Minute},
		"a 503 backs off": {err: &graph.Error{Status: 503, Class: graph.Transient},
			wantReason: identityv1alpha1.ReasonGraphError, wantRetry: true},
		"a network error backs off": {err: errors.New("connection reset"),
			wantReason: identityv1alpha1.ReasonGraphError, wantRetry: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := graphOutcome(tc.err, "testing")
			if o.reason != tc.wantReason || o.stalled != tc.wantStalled || (o.err != nil) != tc.wantRetry || o.requeueAfter != tc.wantAfter {
				t.Errorf("got reason=%s stalled=%v err=%v after=%v; want reason=%s stalled=%v retry=%v after=%v",
					o.reason, o.stalled, o.err, o.requeueAfter, tc.wantReason, tc.wantStalled, tc.wantRetry, tc.wantAfter)
			}
		})
	}
	// A message that changed on every retry would cost a status write per retry: request-ids
	// go to logs and events, never into the condition.
	first := graphOutcome(&graph.Error{Status: 403, Class: graph.Forbidden, RequestID: "abc-123"}, "testing")
	second := graphOutcome(&graph.Error{Status: 403, Class: graph.Forbidden, RequestID: "def-456"}, "testing")
	if first.message != second.message || strings.Contains(first.message, "abc-123") {
		t.Errorf("messages must not depend on the request-id: %q vs %q", first.message, second.message)
	}
	s := &scope{}
	s.graphFailed(&graph.Error{Status: 401, Class: graph.Unauthorized, RequestID: "abc-123"}, "testing")
	if requestIDOf(s.graphErr) != "abc-123" || !s.reconnect {
		t.Errorf("the scope must keep the Graph error (for the log and event, with its request-id) and ask to reconnect after a 401")
	}
}
