// Package v1alpha1 contains the phoneop API: PhoneAuthMethod (one phone of one Microsoft Entra
// user) and EntraTenant (a connection to a tenant that a cluster admin grants).
// +kubebuilder:object:generate=true
// +groupName=identity.phoneop.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every phoneop kind.
	GroupVersion = schema.GroupVersion{Group: "identity.phoneop.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the phoneop kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the phoneop kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
