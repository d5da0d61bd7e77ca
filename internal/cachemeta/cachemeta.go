// Package cachemeta is the manager cache's transform: what of each watched object phoneop keeps
// in memory. A namespace tenant can write about 1 MiB of labels and annotations into each
// object it owns; none of it is read, so none of it is kept, and the manager's memory is bounded
// by specs and statuses, which the CRDs bound.
package cachemeta

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/shard"
)

// cachedAnnotations are the only annotations phoneop reads, on PhoneAuthMethods and
// EntraTenants; the cache keeps no other.
var cachedAnnotations = []string{identityv1alpha1.AnnotationPaused, identityv1alpha1.AnnotationReconcileRequestedAt}

// cachedLabels are the only labels phoneop selects on or decides by, on PhoneAuthMethods and
// EntraTenants (the shard: shard.Selector, shard.Owns, shard.SameShard); the cache keeps no other.
var cachedLabels = []string{shard.Label}

// Strip is the manager cache's transform: it keeps in memory only what the
// reconcilers read, so that nothing a namespace tenant writes into an object's metadata (labels
// and annotations may add about 1 MiB per object) costs the manager memory. Every cached
// object's size is then bounded by its spec and status, which the CRDs bound, and by names.
//   - managedFields go from every object: nothing reads them, they were half of each cached
//     PhoneAuthMethod, and the API server keeps them when an update omits them.
//   - a PhoneAuthMethod or an EntraTenant keeps only the annotations phoneop reads
//     (cachedAnnotations: paused, reconcile-requested-at) and the labels it selects on
//     (cachedLabels: the shard). Finalizers stay whole: the controller's finalizer patch writes the list as read
//     (a merge patch replaces a list), so a list cut here would drop other controllers'.
//   - a Secret (watched as metadata only) keeps its name and nothing a tenant can grow: no
//     label, annotation, owner or finalizer (kubectl's last-applied copy holds the Secret's whole data). phoneop
//     only needs to know that a Secret a reference names has changed.
//   - a Namespace (metadata only) keeps its labels, because EntraTenants' allowedNamespaces
//     select on them with keys an admin chooses, and loses its annotations. Only cluster admins
//     label namespaces (they are cluster-scoped), so namespace tenants cannot grow them.
//   - a PhoneAuthMethod's strings that repeat across objects (namespace, tenant, phone type,
//     policies, finalizer, condition types, reasons and messages) are interned: one copy for
//     all objects instead of one decoded copy each (internPhoneAuthMethod).
//
// phoneop writes PhoneAuthMethods only as patches computed between two cached copies
// (the controllers' finalizer and status patches), and EntraTenants' status likewise, so what the cache drops
// is never sent and stays on the API server
// (controllers' TestTheCacheKeepsNoMetadataATenantCanGrow).
func Strip() cache.TransformFunc {
	return func(obj any) (any, error) {
		if o, ok := obj.(client.Object); ok {
			o.SetManagedFields(nil)
		}
		switch o := obj.(type) {
		case *metav1.PartialObjectMetadata:
			stripMetadataOnly(o)
		case *identityv1alpha1.PhoneAuthMethod:
			keepOnlyUsedMetadata(o)
			internPhoneAuthMethod(o)
		case *identityv1alpha1.EntraTenant:
			keepOnlyUsedMetadata(o)
		}
		return obj, nil
	}
}

// stripMetadataOnly drops what phoneop never reads of a metadata-only object: every annotation,
// and a Secret's labels. The informer sets the kind before the transform; an object of unknown
// kind keeps its labels, so that a grant can never be decided on labels the cache dropped.
func stripMetadataOnly(m *metav1.PartialObjectMetadata) {
	m.Annotations, m.OwnerReferences, m.Finalizers = nil, nil, nil
	if m.Kind == "Secret" {
		m.Labels = nil
	}
}

// keepOnlyUsedMetadata cuts an object's labels and annotations down to cachedLabels and
// cachedAnnotations, and drops its ownerReferences (nothing reads them; a tenant can list many).
func keepOnlyUsedMetadata(o metav1.Object) {
	o.SetOwnerReferences(nil)
	o.SetLabels(onlyKeys(o.GetLabels(), cachedLabels))
	o.SetAnnotations(onlyKeys(o.GetAnnotations(), cachedAnnotations))
}

// onlyKeys returns the entries of m whose keys are in keep, or nil when there are none.
func onlyKeys(m map[string]string, keep []string) map[string]string {
	var out map[string]string
	for _, k := range keep {
		if v, ok := m[k]; ok {
			if out == nil {
				out = make(map[string]string, len(keep))
			}
			out[intern(k)] = v
		}
	}
	return out
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
