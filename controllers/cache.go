package controllers

import (
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// StripCachedMetadata is the manager cache's transform: it keeps in memory only what the
// reconcilers read.
//   - managedFields go from every object: nothing reads them, they were half of each cached
//     PhoneAuthMethod, and the API server keeps them when an update omits them.
//   - annotations go from metadata-only objects (Secrets, Namespaces): phoneop watches those
//     for names and labels only, and a Secret's kubectl.kubernetes.io/last-applied-configuration
//     annotation holds the Secret's whole data, which must never sit in our memory.
//   - a PhoneAuthMethod loses kubectl's last-applied-configuration annotation: client-side
//     apply (kubectl apply, Argo CD's default) stores the whole manifest there, as large as
//     the rest of the object, and phoneop never reads it. phoneop writes finalizers and status
//     as patches, so the annotation stays on the API server (patchFinalizers).
//   - a PhoneAuthMethod's strings that repeat across objects (namespace, tenant, phone type,
//     policies, finalizer, condition types, reasons and messages) are interned: one copy for
//     all objects instead of one decoded copy each (internPhoneAuthMethod).
func StripCachedMetadata() cache.TransformFunc {
	return func(obj any) (any, error) {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			m.Annotations = nil
		}
		if o, ok := obj.(client.Object); ok {
			o.SetManagedFields(nil)
		}
		if p, ok := obj.(*identityv1alpha1.PhoneAuthMethod); ok {
			dropLastApplied(p)
			internPhoneAuthMethod(p)
		}
		return obj, nil
	}
}

// dropLastApplied removes kubectl's last-applied-configuration annotation (and the map, when
// it was the only one).
func dropLastApplied(p *identityv1alpha1.PhoneAuthMethod) {
	if _, ok := p.Annotations[corev1.LastAppliedConfigAnnotation]; !ok {
		return
	}
	delete(p.Annotations, corev1.LastAppliedConfigAnnotation)
	if len(p.Annotations) == 0 {
		p.Annotations = nil
	}
}

// internPhoneAuthMethod replaces the object's low-cardinality strings by canonical copies
// (package unique), so that 14,000 cached objects share one "bench", one "mobile", one
// "Ready" and one "The phone matches the spec" instead of holding a decoded copy each. Values
// are unchanged; only where their bytes live.
func internPhoneAuthMethod(p *identityv1alpha1.PhoneAuthMethod) {
	p.APIVersion, p.Kind = intern(p.APIVersion), intern(p.Kind)
	p.Namespace = intern(p.Namespace)
	for i := range p.Finalizers {
		p.Finalizers[i] = intern(p.Finalizers[i])
	}
	s := &p.Spec
	s.TenantRef.Name = intern(s.TenantRef.Name)
	s.PhoneType = identityv1alpha1.PhoneType(intern(string(s.PhoneType)))
	s.DeletionPolicy = identityv1alpha1.DeletionPolicy(intern(string(s.DeletionPolicy)))
	s.ManagementPolicy = identityv1alpha1.ManagementPolicy(intern(string(s.ManagementPolicy)))
	st := &p.Status
	st.SMSSignInState = intern(st.SMSSignInState)
	for i := range st.PlannedActions {
		st.PlannedActions[i] = intern(st.PlannedActions[i])
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Reason, c.Message = intern(c.Type), intern(c.Reason), intern(c.Message)
		c.Status = metav1.ConditionStatus(intern(string(c.Status)))
	}
}

func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}
