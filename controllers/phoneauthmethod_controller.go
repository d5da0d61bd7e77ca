package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// PhoneAuthMethodReconciler converges one user's phone in Microsoft Graph to a PhoneAuthMethod:
// resolve tenant and grant → observe (one shared GET per user) → plan (pure) → apply → status.
type PhoneAuthMethodReconciler struct {
	client.Client
	// SecretReader reads phoneNumberFrom Secrets uncached, so the manager never caches Secrets.
	SecretReader client.Reader
	// Connector turns EntraTenants into Graph connections.
	Connector *Connector
	// Observer shares one phone-method read among the objects of a user.
	Observer *Observer
	// Users remembers resolved users, so a steady state costs no user lookups.
	Users *UserCache
	// Recorder records an Event for every Graph write and drift correction.
	Recorder events.EventRecorder
	// ResyncPeriod is how often a converged object re-reads Graph to catch drift.
	ResyncPeriod time.Duration
	// MaxConcurrentReconciles bounds parallel reconciles; the tenant's rate limiter, not this,
	// bounds the Graph request rate.
	MaxConcurrentReconciles int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Reconcile is the spine: fetch, finalizer, then the phases, with status written once in a
// deferred patch (Cluster API) and only when it changed.
func (r *PhoneAuthMethodReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	pam := &identityv1alpha1.PhoneAuthMethod{}
	if err := r.Get(ctx, req.NamespacedName, pam); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pam.DeletionTimestamp.IsZero() && controllerutil.AddFinalizer(pam, identityv1alpha1.Finalizer) {
		if err := r.Update(ctx, pam); err != nil {
			return ctrl.Result{}, ignoreConflict(err)
		}
	}

	before := pam.DeepCopy()
	s := &scope{pam: pam, priorReady: isReadyAndCurrent(pam)}
	defer func() {
		if s.released {
			return // the finalizer is gone and so, soon, is the object
		}
		r.setStatus(s, before, retErr)
		retErr = errors.Join(retErr, r.patchStatus(ctx, before, pam))
	}()

	if !pam.DeletionTimestamp.IsZero() {
		s.outcome = r.reconcileDelete(ctx, s)
	} else {
		s.outcome = r.reconcileNormal(ctx, s)
	}
	if s.outcome.reconnect && s.tenant != nil {
		r.Connector.Forget(s.tenant.UID)
	}
	return r.resultFor(s)
}

// patchStatus writes the status when, and only when, it differs from what was read: a steady
// state costs no API-server write.
func (r *PhoneAuthMethodReconciler) patchStatus(ctx context.Context, before, pam *identityv1alpha1.PhoneAuthMethod) error {
	if equality.Semantic.DeepEqual(before.Status, pam.Status) {
		return nil
	}
	err := r.Status().Patch(ctx, pam, client.MergeFrom(before))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return ignoreConflict(err)
}

// ignoreConflict turns a Kubernetes 409 into a silent requeue: the watch brings the newer
// object soon.
func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// isReadyAndCurrent reports whether the object was converged for its current generation
// before this reconcile; a plan with actions then means somebody changed Graph (drift).
func isReadyAndCurrent(pam *identityv1alpha1.PhoneAuthMethod) bool {
	for _, c := range pam.Status.Conditions {
		if c.Type == identityv1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue && pam.Status.ObservedGeneration == pam.Generation
		}
	}
	return false
}

// SetupWithManager registers the indexes and watches:
//   - the object itself, on spec (generation) and annotation changes only, so our own status
//     writes do not wake us;
//   - sibling objects of the same user: an alternateMobile waits for its mobile, a mobile's
//     deletion waits for its alternate;
//   - the EntraTenant: its readiness or grant changed;
//   - Secrets (metadata only) named by phoneNumberFrom.
func (r *PhoneAuthMethodReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := addIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.PhoneAuthMethod{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&identityv1alpha1.PhoneAuthMethod{}, handler.EnqueueRequestsFromMapFunc(r.siblingsOf)).
		Watches(&identityv1alpha1.EntraTenant{}, handler.EnqueueRequestsFromMapFunc(r.objectsOfTenant)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.objectsReadingSecret), builder.OnlyMetadata).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("phoneauthmethod").
		Complete(r)
}

func (r *PhoneAuthMethodReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
