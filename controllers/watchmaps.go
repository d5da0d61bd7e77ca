package controllers

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/fieldindex"
	"github.com/phoneop/phoneop/internal/userindex"
)

// siblingsOf maps a change of one object to the objects of the same user that wait on it: an
// alternateMobile waits for its mobile (MobileRequired) and a mobile's deletion waits for its
// alternateMobile object to go.
func (r *PhoneAuthMethodReconciler) siblingsOf(ctx context.Context, o client.Object) []reconcile.Request {
	p := o.(*identityv1alpha1.PhoneAuthMethod)
	var waiter identityv1alpha1.PhoneType
	switch p.Spec.PhoneType {
	case identityv1alpha1.PhoneTypeMobile:
		waiter = identityv1alpha1.PhoneTypeAlternateMobile
	case identityv1alpha1.PhoneTypeAlternateMobile:
		waiter = identityv1alpha1.PhoneTypeMobile
	default:
		return nil
	}
	siblings, err := r.objectsOfUser(ctx, p)
	if errors.Is(err, userindex.ErrNotSynced) {
		// The manager is starting: every object is queued by its own first event anyway.
		return nil
	}
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing sibling PhoneAuthMethods")
		return nil
	}
	var reqs []reconcile.Request
	for i := range siblings {
		if s := &siblings[i]; s.Spec.PhoneType == waiter && s.UID != p.UID {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(s)})
		}
	}
	return reqs
}

// objectsOfUser lists, from the cache, every object naming p's user in p's tenant, by UPN or by
// object id, each once.
func (r *PhoneAuthMethodReconciler) objectsOfUser(ctx context.Context, p *identityv1alpha1.PhoneAuthMethod) ([]identityv1alpha1.PhoneAuthMethod, error) {
	return r.UserIndex.Objects(ctx, r, userindex.RefsOf(p))
}

// objectsOfTenant maps a tenant change to every object that names the tenant.
func (r *PhoneAuthMethodReconciler) objectsOfTenant(ctx context.Context, o client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.MatchingFields{fieldindex.Tenant: o.GetName()})
}

// objectsReadingSecret maps a Secret change to the objects whose phoneNumberFrom names it.
func (r *PhoneAuthMethodReconciler) objectsReadingSecret(ctx context.Context, o client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.InNamespace(o.GetNamespace()), client.MatchingFields{fieldindex.Secret: o.GetName()})
}

// objectsInNamespace maps a namespace label change to the objects in it.
func (r *PhoneAuthMethodReconciler) objectsInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.InNamespace(o.GetName()))
}

// requestsFor lists the matching objects' keys. The list shares the cache's objects instead of
// deep-copying them (only names are read): a tenant's wake would otherwise copy all of its
// objects at once, tens of megabytes of garbage for a large tenant.
func (r *PhoneAuthMethodReconciler) requestsFor(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list identityv1alpha1.PhoneAuthMethodList
	if err := r.List(ctx, &list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing PhoneAuthMethods to requeue")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name}})
	}
	return reqs
}
