package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func TestStripCachedMetadata(t *testing.T) {
	secret := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "s", Labels: map[string]string{"keep": "me"},
		Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"number":"KzEgMjA2NTU1MDEwMA=="}}`},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Name: "p",
		Annotations: map[string]string{identityv1alpha1.AnnotationReconcileRequestedAt: "1",
			"kubectl.kubernetes.io/last-applied-configuration": `{"spec":{"phoneNumber":"+1 2065550100"}}`},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	applied := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Name: "a",
		Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"spec":{}}`}}}
	strip := StripCachedMetadata()
	for _, o := range []any{secret, pam, applied} {
		if _, err := strip(o); err != nil {
			t.Fatal(err)
		}
	}
	if secret.Annotations != nil || secret.ManagedFields != nil || secret.Labels["keep"] != "me" {
		t.Errorf("metadata-only object: annotations and managedFields must go, labels stay: %+v", secret.ObjectMeta)
	}
	if pam.ManagedFields != nil || pam.Annotations[identityv1alpha1.AnnotationReconcileRequestedAt] != "1" || len(pam.Annotations) != 1 {
		t.Errorf("full object: managedFields and kubectl's last-applied copy of the manifest must go, other annotations (the reconcile request) stay: %+v", pam.ObjectMeta)
	}
	if applied.Annotations != nil {
		t.Errorf("an object whose only annotation was kubectl's last-applied keeps an empty map: %+v", applied.ObjectMeta)
	}
}

// TestInternKeepsValues: interning changes where a cached object's strings live, never what
// they say.
func TestInternKeepsValues(t *testing.T) {
	pam := &identityv1alpha1.PhoneAuthMethod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team-a", Finalizers: []string{identityv1alpha1.Finalizer}},
		Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, User: "kim@contoso.com",
			PhoneType: identityv1alpha1.PhoneTypeMobile, DeletionPolicy: identityv1alpha1.DeletionPolicyOrphan},
		Status: identityv1alpha1.PhoneAuthMethodStatus{SMSSignInState: "ready", PlannedActions: []string{"create mobile"},
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Synced", Message: "in sync"}}},
	}
	want := pam.DeepCopy()
	if _, err := StripCachedMetadata()(pam); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(pam, want) {
		t.Errorf("interning changed the object:\n got %+v\nwant %+v", pam, want)
	}
}
