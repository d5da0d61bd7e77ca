package manifests

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// TestKstatus checks the table in docs/gitops.md: how Flux (kstatus, with `wait: true`) reads
// the states phoneop writes. It uses the same objects as the Argo CD tests.
func TestKstatus(t *testing.T) {
	for name, c := range map[string]struct {
		object string
		want   status.Status
	}{
		// kstatus cannot tell "not reconciled yet" from "has no status at all": an object phoneop
		// has not written yet is Current. docs/gitops.md therefore recommends Flux's
		// healthCheckExprs; this case pins the caveat so the docs stay true.
		"new object without status": {`{metadata: {generation: 1}}`, status.CurrentStatus},
		"ready": {`{metadata: {generation: 3}, status: {observedGeneration: 3, conditions: [
			{type: Ready, status: "True", reason: Synced, message: ok}, {type: Synced, status: "True", reason: Synced, message: ok}]}}`, status.CurrentStatus},
		"a new spec not yet reconciled": {`{metadata: {generation: 4}, status: {observedGeneration: 3, conditions: [
			{type: Ready, status: "True", reason: Synced, message: ok}]}}`, status.InProgressStatus},
		"reconciling: waiting for a mobile": {`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
			{type: Ready, status: "False", reason: MobileRequired, message: m}, {type: Reconciling, status: "True", reason: MobileRequired, message: m}]}}`, status.InProgressStatus},
		"stalled: conflict": {`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
			{type: Ready, status: "False", reason: Conflict, message: m}, {type: Stalled, status: "True", reason: Conflict, message: m}]}}`, status.FailedStatus},
		// Paused (phoneop.dev/paused) without a spec change: Ready as it was, so Current.
		"paused, spec applied": {`{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [
			{type: Ready, status: "True", reason: Synced, message: ok}, {type: Synced, status: "False", reason: Paused, message: m}]}}`, status.CurrentStatus},
		// Paused with a spec change: observedGeneration held and Ready Unknown for the new
		// generation, so Flux's wait and Helm 4's --wait do not take it for applied.
		"paused, spec changed": {`{metadata: {generation: 3}, status: {observedGeneration: 2, conditions: [
			{type: Ready, status: "Unknown", reason: Paused, message: m, observedGeneration: 3}, {type: Synced, status: "False", reason: Paused, message: m}]}}`, status.InProgressStatus},
		"paused when created": {`{metadata: {generation: 1}, status: {conditions: [
			{type: Ready, status: "Unknown", reason: Paused, message: m, observedGeneration: 1}, {type: Synced, status: "False", reason: Paused, message: m}]}}`, status.InProgressStatus},
		// A warning condition next to Ready=True changes nothing for kstatus.
		"ready with the SmsSignInRetiring warning": {`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
			{type: Ready, status: "True", reason: Synced, message: ok}, {type: SmsSignInRetiring, status: "True", reason: SmsSignInRetiring, message: m}]}}`, status.CurrentStatus},
		"ObserveOnly with differences": {`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [
			{type: Ready, status: "False", reason: Planned, message: m}, {type: Reconciling, status: "True", reason: Planned, message: m}]}}`, status.InProgressStatus},
	} {
		t.Run(name, func(t *testing.T) {
			// Through JSON, as from the API server: integers must be int64 for kstatus.
			j, err := yaml.YAMLToJSON([]byte(c.object))
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(append([]byte(`{"apiVersion":"identity.phoneop.dev/v1alpha1","kind":"PhoneAuthMethod",`), j[1:]...)); err != nil {
				t.Fatal(err)
			}
			u.SetName("kim-mobile")
			u.SetNamespace("team-a")
			res, err := status.Compute(u)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != c.want {
				t.Errorf("kstatus %s (%s), want %s", res.Status, res.Message, c.want)
			}
		})
	}
}
