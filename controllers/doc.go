// Package controllers holds phoneop's reconcilers: PhoneAuthMethod (one phone of one Entra
// user, converged against Microsoft Graph) and EntraTenant (a tenant connection's health).
package controllers

// RBAC for the manager, least privilege: only the verbs the code calls. PhoneAuthMethods are
// patched only for the finalizer (patchFinalizers) and their status is patched; EntraTenants are read and their
// status patched; Secrets are read (uncached Get) and watched as metadata only; Namespaces'
// labels decide grants; Events go through events.k8s.io.
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods/status,verbs=patch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods/finalizers,verbs=update
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=entratenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=entratenants/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
