package cachemeta

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/shard"
)

func TestStrip(t *testing.T) {
	secret := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "s", Labels: map[string]string{"keep": "me"},
		Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"number":"KzEgMjA2NTU1MDEwMA=="}}`},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Name: "p",
		Annotations: map[string]string{identityv1alpha1.AnnotationReconcileRequestedAt: "1",
			"kubectl.kubernetes.io/last-applied-configuration": `{"spec":{"phoneNumber":"+1 2065550100"}}`},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	applied := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Name: "a",
		Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"spec":{}}`}}}
	strip := Strip()
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
	if _, err := Strip()(pam); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(pam, want) {
		t.Errorf("interning changed the object:\n got %+v\nwant %+v", pam, want)
	}
}

// TestTheCacheKeepsOnlyMetadataPhoneopReads: of a PhoneAuthMethod and an EntraTenant only the
// annotations phoneop reads and the shard label stay; a Secret keeps no label; a Namespace
// keeps its labels (grants select on them) and no annotation.
func TestTheCacheKeepsOnlyMetadataPhoneopReads(t *testing.T) {
	grown := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "o",
			Labels: map[string]string{shard.Label: "s1", "team": "a", "bloat.example.com/x": "y"},
			Annotations: map[string]string{identityv1alpha1.AnnotationPaused: "true", identityv1alpha1.AnnotationReconcileRequestedAt: "1",
				"bloat.example.com/a": "zzz"},
			OwnerReferences: []metav1.OwnerReference{{Name: "owner"}}}
	}
	kept := metav1.ObjectMeta{Name: "o", Labels: map[string]string{shard.Label: "s1"},
		Annotations: map[string]string{identityv1alpha1.AnnotationPaused: "true", identityv1alpha1.AnnotationReconcileRequestedAt: "1"}}
	secret := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: grown()}
	namespace := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: grown()}
	cases := map[string]struct {
		obj  metav1.Object
		want metav1.ObjectMeta
	}{
		"a PhoneAuthMethod keeps paused, reconcile-requested-at and the shard": {&identityv1alpha1.PhoneAuthMethod{ObjectMeta: grown()}, kept},
		"an EntraTenant keeps paused, reconcile-requested-at and the shard":    {&identityv1alpha1.EntraTenant{ObjectMeta: grown()}, kept},
		"a Secret keeps its name only":                                         {secret, metav1.ObjectMeta{Name: "o"}},
		"a Namespace keeps its labels":                                         {namespace, metav1.ObjectMeta{Name: "o", Labels: grown().Labels}},
	}
	for name, tc := range cases {
		if _, err := Strip()(tc.obj); err != nil {
			t.Fatal(err)
		}
		got := *tc.obj.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
		if !equality.Semantic.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, tc.want)
		}
	}
}
