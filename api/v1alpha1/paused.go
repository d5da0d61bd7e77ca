package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// IsPaused reports whether o carries the phoneop.dev/paused annotation set to "true": a paused
// PhoneAuthMethod, or every object of a paused EntraTenant, gets no Graph call.
func IsPaused(o metav1.Object) bool {
	return o.GetAnnotations()[AnnotationPaused] == "true"
}
