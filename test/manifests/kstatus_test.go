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
