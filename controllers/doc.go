// Package controllers holds phoneop's reconcilers: PhoneAuthMethod (one phone of one Entra
// user, converged against Microsoft Graph) and EntraTenant (a tenant connection's health).
package controllers

// RBAC for the manager, least privilege: the two phoneop kinds, Secrets read-only (numbers from
// phoneNumberFrom, credentials in the operator's namespace), Events to report what phoneop did.
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods/finalizers,verbs=update
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=entratenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=entratenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
