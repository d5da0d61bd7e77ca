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
		Annotations:   map[string]string{identityv1alpha1.AnnotationReconcileRequestedAt: "1"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	strip := StripCachedMetadata()
	for _, o := range []any{secret, pam} {
		if _, err := strip(o); err != nil {
			t.Fatal(err)
		}
	}
	if secret.Annotations != nil || secret.ManagedFields != nil || secret.Labels["keep"] != "me" {
		t.Errorf("metadata-only object: annotations and managedFields must go, labels stay: %+v", secret.ObjectMeta)
	}
	if pam.ManagedFields != nil || pam.Annotations[identityv1alpha1.AnnotationReconcileRequestedAt] != "1" {
		t.Errorf("full object: managedFields must go, annotations (the reconcile request) stay: %+v", pam.ObjectMeta)
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
