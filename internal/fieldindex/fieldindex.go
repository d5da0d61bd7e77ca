package fieldindex

import (
	"context"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// The field indexes, for client.MatchingFields.
const (
	// Tenant keys an object by spec.tenantRef.name; only looked up across namespaces.
	Tenant = "phoneop.tenant"
	// Secret keys an object by the Secret its phoneNumberFrom names (same namespace).
	Secret = "phoneop.secret"
)

// Add registers the indexes with the manager's cache; call it before the cache starts.
func Add(ctx context.Context, idx client.FieldIndexer) error {
	pam := &identityv1alpha1.PhoneAuthMethod{}
	byTenant := func(p *identityv1alpha1.PhoneAuthMethod) []string { return []string{p.Spec.TenantRef.Name} }
	// The tenant index is only ever looked up across namespaces (a tenant's objects
	// everywhere): keep only those keys (clusterWideIndex).
	if informers, ok := idx.(cache.Informers); ok {
		inf, err := informers.GetInformer(ctx, pam)
		if err != nil {
			return err
		}
		if err := inf.AddIndexers(toolscache.Indexers{fieldIndexName(Tenant): clusterWideIndex(byTenant)}); err != nil {
			return err
		}
	} else if err := idx.IndexField(ctx, pam, Tenant, func(o client.Object) []string {
		return byTenant(o.(*identityv1alpha1.PhoneAuthMethod))
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, pam, Secret, func(o client.Object) []string {
		p := o.(*identityv1alpha1.PhoneAuthMethod)
		if p.Spec.PhoneNumberFrom == nil {
			return nil
		}
		return []string{p.Spec.PhoneNumberFrom.SecretKeyRef.Name}
	})
}

// fieldIndexName and allNamespaces are how controller-runtime's cache names a field index and
// keys a lookup without a namespace (client.MatchingFields without client.InNamespace):
// pkg/cache/internal's FieldIndexName and KeyToNamespacedKey("", key), unexported there.
// The envtests that wake a tenant's or a Secret's objects through these indexes fail if they
// change.
func fieldIndexName(field string) string { return "field:" + field }

const allNamespaces = "__all_namespaces/"

// clusterWideIndex is fn as an informer index holding only the keys a lookup across namespaces
// uses. controller-runtime's IndexField also keeps a second key per value, prefixed with the
// object's namespace, for lookups within one namespace: phoneop never makes those for the
// tenant index.
func clusterWideIndex(fn func(*identityv1alpha1.PhoneAuthMethod) []string) toolscache.IndexFunc {
	return func(obj any) ([]string, error) {
		p, ok := obj.(*identityv1alpha1.PhoneAuthMethod)
		if !ok {
			return nil, nil
		}
		keys := fn(p)
		for i, k := range keys {
			keys[i] = allNamespaces + k
		}
		return keys, nil
	}
}
