package v1alpha1_test

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestChangeFeedAdmission: spec.changeFeed's intervals are bounded at admission, with messages
// naming the field.
func TestChangeFeedAdmission(t *testing.T) {
	needsControlPlane(t)
	cases := map[string]admissionCase{
		"an enabled feed with the defaults is accepted":     {spec: validTenant + "\nchangeFeed: {enabled: true}"},
		"a feed with explicit intervals is accepted":        {spec: validTenant + "\nchangeFeed: {enabled: true, pollInterval: 30s, sweepPeriod: 12h}"},
		"a disabled feed is accepted":                       {spec: validTenant + "\nchangeFeed: {enabled: false}"},
		"a poll interval under 5 s is refused":              {spec: validTenant + "\nchangeFeed: {enabled: true, pollInterval: 1s}", wantErr: []string{"spec.changeFeed.pollInterval", "between 5s and 1h"}},
		"a poll interval over an hour is refused":           {spec: validTenant + "\nchangeFeed: {enabled: true, pollInterval: 2h}", wantErr: []string{"spec.changeFeed.pollInterval"}},
		"a sweep period under 5 minutes is refused":         {spec: validTenant + "\nchangeFeed: {enabled: true, sweepPeriod: 1m}", wantErr: []string{"spec.changeFeed.sweepPeriod", "between 5m and 168h"}},
		"a sweep period over a week is refused":             {spec: validTenant + "\nchangeFeed: {enabled: true, sweepPeriod: 200h}", wantErr: []string{"spec.changeFeed.sweepPeriod"}},
		"a poll interval that is not a duration is refused": {spec: validTenant + "\nchangeFeed: {enabled: true, pollInterval: often}", wantErr: []string{"pollInterval"}},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			assertAdmission(t, object(t, tenantGVK, fmt.Sprintf("feed-%d", i), tc.spec), tc)
		})
	}
}

// TestChangeFeedDefaults: an enabled feed that names no intervals gets 1m and 24h.
func TestChangeFeedDefaults(t *testing.T) {
	needsControlPlane(t)
	obj := object(t, tenantGVK, "feed-defaults", validTenant+"\nchangeFeed: {enabled: true}")
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	for field, want := range map[string]string{"pollInterval": "1m", "sweepPeriod": "24h"} {
		got, _, _ := unstructured.NestedString(obj.Object, "spec", "changeFeed", field)
		if got != want {
			t.Errorf("spec.changeFeed.%s defaulted to %q, want %q", field, got, want)
		}
	}
}
