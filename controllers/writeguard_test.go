package controllers

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func guardedObject(uid types.UID) *identityv1alpha1.PhoneAuthMethod {
	return &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "kim-mobile", UID: uid, Generation: 1}}
}

// TestAnObjectGoneWithoutPhoneopLosesItsWriteRecord: an object without a finalizer is deleted
// without phoneop; the reconcile that finds it gone drops what memory kept of it.
func TestAnObjectGoneWithoutPhoneopLosesItsWriteRecord(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = identityv1alpha1.AddToScheme(scheme)
	r := &PhoneAuthMethodReconciler{Client: fake.NewClientBuilder().WithScheme(scheme).Build()}
	gone := guardedObject("gone")
	r.writes.Remember(gone, identityv1alpha1.WriteGuardStatus{Generation: 1, Writes: []string{"Create mobile"}})

	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(gone)}); err != nil {
		t.Fatalf("Reconcile of a gone object: %v", err)
	}
	if rec := r.writes.Load(gone); len(rec.Writes) != 0 {
		t.Errorf("the gone object's write record is still kept: %+v", rec)
	}
}
