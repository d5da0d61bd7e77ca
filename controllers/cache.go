package controllers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StripCachedMetadata is the manager cache's transform: it keeps in memory only what the
// reconcilers read.
//   - managedFields go from every object: nothing reads them, they were half of each cached
//     PhoneAuthMethod, and the API server keeps them when an update omits them.
//   - annotations go from metadata-only objects (Secrets, Namespaces): phoneop watches those
//     for names and labels only, and a Secret's kubectl.kubernetes.io/last-applied-configuration
//     annotation holds the Secret's whole data, which must never sit in our memory.
func StripCachedMetadata() cache.TransformFunc {
	return func(obj any) (any, error) {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			m.Annotations = nil
		}
		if o, ok := obj.(client.Object); ok {
			o.SetManagedFields(nil)
		}
		return obj, nil
	}
}
