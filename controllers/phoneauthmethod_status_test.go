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
)

// TestStatusForOutcome runs setStatus on each kind of outcome and checks the conditions and the
// kstatus that Flux and `kubectl wait` derive from them.
func TestStatusForOutcome(t *testing.T) {
	cases := map[string]struct {
		reason string
		// outcome inputs
		outcome outcome
		retErr  error
		// expected outputs
		wantReady       metav1.ConditionStatus
		wantSynced      metav1.ConditionStatus
		wantKstatus     status.Status
		wantObservedGen int64
	}{
		"converged": {
			outcome:   outcome{ready: true, synced: true, reason: identityv1alpha1.ReasonSynced, message: "ok"},
			wantReady: metav1.ConditionTrue, wantSynced: metav1.ConditionTrue, wantKstatus: status.CurrentStatus, wantObservedGen: 2},
		"waiting for the mobile is progress": {
			outcome:   outcome{synced: true, reason: identityv1alpha1.ReasonMobileRequired, message: "wait", requeueAfter: slowRetry},
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionTrue, wantKstatus: status.InProgressStatus, wantObservedGen: 2},
		"a conflict is stalled": {
			outcome:   outcome{reason: identityv1alpha1.ReasonConflict, message: "owned elsewhere", stalled: true},
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.FailedStatus, wantObservedGen: 2},
		"a transient error keeps the old observedGeneration": {
			outcome:   outcome{reason: identityv1alpha1.ReasonGraphError, message: "retry", err: errors.New("503")},
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.InProgressStatus, wantObservedGen: 1},
		"throttling is progress, not failure": {
			outcome:   outcome{reason: identityv1alpha1.ReasonThrottled, message: "later", requeueAfter: time.Second},
			wantReady: metav1.ConditionFalse, wantSynced: metav1.ConditionFalse, wantKstatus: status.InProgressStatus, wantObservedGen: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			pam.Status.ObservedGeneration = 1
			r := &PhoneAuthMethodReconciler{Now: func() time.Time { return time.Unix(1700000000, 0) }}
			s := &scope{pam: pam, outcome: tc.outcome}
			r.setStatus(s, pam.DeepCopy(), tc.retErr)

			if c := meta.FindStatusCondition(pam.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Status != tc.wantReady {
				t.Errorf("Ready = %+v, want %s", c, tc.wantReady)
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
	if requestIDOf(first.graphErr) != "abc-123" {
		t.Errorf("the Graph error (for the log and event) must keep its request-id")
	}
}
