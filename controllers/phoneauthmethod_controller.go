package controllers

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
	"github.com/phoneop/phoneop/internal/changefeed"
	"github.com/phoneop/phoneop/internal/fairqueue"
	"github.com/phoneop/phoneop/internal/fieldindex"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/observe"
	"github.com/phoneop/phoneop/internal/pace"
	"github.com/phoneop/phoneop/internal/privileged"
	"github.com/phoneop/phoneop/internal/schedule"
	"github.com/phoneop/phoneop/internal/smsretirement"
	"github.com/phoneop/phoneop/internal/statuskey"
	"github.com/phoneop/phoneop/internal/tenantconn"
	"github.com/phoneop/phoneop/internal/usercache"
	"github.com/phoneop/phoneop/internal/userindex"
	"github.com/phoneop/phoneop/internal/writeguard"
)

// PhoneAuthMethodReconciler converges one user's phone in Microsoft Graph to a PhoneAuthMethod:
// resolve tenant and grant → observe (one shared GET per user) → plan (pure) → apply → status.
type PhoneAuthMethodReconciler struct {
	client.Client
	// SecretReader reads phoneNumberFrom Secrets uncached, so the manager never caches Secrets.
	SecretReader client.Reader
	// Connector turns EntraTenants into Graph connections.
	Connector TenantConnector
	// Observer shares one phone-method read among the objects of a user.
	Observer *observe.Observer
	// Users remembers resolved users, so a steady state costs no user lookups.
	Users *usercache.Cache
	// Privileged keeps each tenant's privileged users (directory roles) for a refresh period;
	// nil refuses every user of a tenant that does not allow privileged users.
	Privileged *privileged.Cache
	// Budgets is the change budget: each tenant's destructive writes and new phones per
	// rolling hour, persisted in a Lease per tenant.
	Budgets *budget.Ledger
	// Recorder records the Events a person needs (events.go): changes to what a user had,
	// drift corrections and warnings; not the new phone of a new object.
	Recorder events.EventRecorder
	// ResyncPeriod is how often a converged object re-reads Graph to catch drift.
	ResyncPeriod time.Duration
	// UserIndex finds a user's objects: slot owners and siblings.
	UserIndex *userindex.Index
	// Sweeps stretches ResyncPeriod for the tenants whose change feed is healthy; nil keeps
	// ResyncPeriod for every tenant.
	Sweeps schedule.Sweeps
	// Wakes, when set, is the change feed's source of objects to re-read now (or, after the
	// feed failed, at their normal resync).
	Wakes source.Source
	// MaxConcurrentReconciles bounds parallel reconciles; the tenant's rate limiter, not this,
	// bounds the Graph request rate.
	MaxConcurrentReconciles int
	// Now is the clock; nil means time.Now. The envtest suite moves it past the SMS sign-in
	// retirement.
	Now func() time.Time
	// SMSSignInRetirement is when SMS sign-in retires in each cloud (--sms-sign-in-retirement);
	// nil means nowhere.
	SMSSignInRetirement smsretirement.Schedule
	// ForcedReads spaces each object's forced re-reads and meters each namespace's; nil honours
	// every request (unit tests).
	ForcedReads *pace.ForcedReads
	// Comparisons spaces, per phone, the comparisons of new desired numbers with Graph's in
	// ObserveOnly and CreateOnly; nil compares at once (unit tests).
	Comparisons *pace.Comparisons
	// StatusKey keys the write hashes in status.writeGuard (internal/statuskey): the install's
	// key, the same across restarts and replicas.
	StatusKey statuskey.Key

	// forcedReadNotices spaces the ForcedReadDeferred events, one per object per interval.
	forcedReadNotices pace.Spacing
	// writes remembers the writes of objects that have not converged since, so that none is
	// repeated against the same observation.
	writes writeguard.Guard
	// backlog counts each tenant's objects that are not converged yet, for the queue's
	// priorities (internal/fairqueue); nil in unit tests.
	backlog *fairqueue.Backlog
}

// TenantConnector turns EntraTenants into Graph connections. *tenantconn.Connector implements it; unit
// tests substitute a fixed connection to a graphtest.FakeAPI.
type TenantConnector interface {
	Connect(ctx context.Context, t *identityv1alpha1.EntraTenant) (*tenantconn.Connection, error)
	Forget(uid types.UID)
}

// Reconcile is the spine: fetch, the finalizer the policies need, then the phases, with status written once in a
// deferred patch (Cluster API) and only when it changed.
func (r *PhoneAuthMethodReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	pam := &identityv1alpha1.PhoneAuthMethod{}
	if err := r.Get(ctx, req.NamespacedName, pam); err != nil {
		if apierrors.IsNotFound(err) {
			// Gone: an object without a finalizer is deleted without phoneop, so this is where
			// what memory keeps of it goes.
			r.backlog.Done(req.NamespacedName)
			r.writes.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if err := r.syncFinalizer(ctx, pam); err != nil {
		// Not ignoreConflict: the predicates may filter the event of whatever change
		// conflicted, so retry with backoff rather than wait for an event.
		return ctrl.Result{}, err
	}

	before := pam.DeepCopy()
	s := &scope{pam: pam, priorReady: isReadyAndCurrent(pam), wasReady: meta.IsStatusConditionTrue(pam.Status.Conditions, identityv1alpha1.ConditionReady)}
	ctx = graph.WithPriority(ctx, passPriority(pam, s.priorReady))
	defer func() {
		if s.released || s.outcome == nil {
			// Released: the finalizer is gone and so, soon, is the object. No outcome: a phase
			// panicked; controller-runtime reports it, and a status write would panic again.
			return
		}
		r.setStatus(s, before)
		stale, err := r.patchStatus(ctx, before, pam)
		retErr = errors.Join(retErr, err)
		switch {
		case retErr != nil:
			res = ctrl.Result{} // an error requeues with backoff; a RequeueAfter beside it is ignored
		case stale:
			// This pass read an object older than the API server's, so its transitions are
			// not news: no Warning events, and another look once the cache has caught up.
			res = ctrl.Result{RequeueAfter: staleReadRetry, Priority: res.Priority}
		default:
			r.recordTransition(before, s)
			r.recordFixedLine(before, s)
			r.recordSMSSignInRetiring(before, s)
		}
	}()

	if !pam.DeletionTimestamp.IsZero() {
		s.outcome = r.reconcileDelete(ctx, s)
	} else {
		s.outcome = r.reconcileNormal(ctx, s)
	}
	if s.outcome.ready || s.released {
		r.writes.Forget(req.NamespacedName) // converged or gone: a later drift is a new story
		r.backlog.Done(req.NamespacedName)
	}
	if s.outcome.reason != identityv1alpha1.ReasonChangeBudgetExceeded {
		// Not (or no longer) waiting for the change budget: its place in line goes, so that an
		// object whose spec was reverted or that stalled elsewhere holds up no one.
		r.Budgets.Forget(req.NamespacedName)
	}
	if s.reconnect && s.tenant != nil {
		r.Connector.Forget(s.tenant.UID)
	}
	if ge := s.graphErr; ge != nil {
		// The client's error text holds status, code and request ids, never a body or number.
		ctrl.LoggerFrom(ctx).Info("Graph call failed", "reason", s.outcome.reason, "requestID", requestIDOf(ge), "error", ge.Error())
	}
	res, err := r.resultFor(s)
	if s.outcome.deferred {
		// Back in the queue at its tenant's backlog priority, behind smaller tenants' work.
		p := r.backlog.Priority(req.NamespacedName)
		res.Priority = &p
	}
	return res, err
}

// recordTransition records a Warning event when the object stops being Ready or changes why it
// is not: once per transition, not per retry, with Graph's request-id when there is one.
func (r *PhoneAuthMethodReconciler) recordTransition(before *identityv1alpha1.PhoneAuthMethod, s *scope) {
	o := s.outcome
	if o.ready || s.released || o.deferred || !(o.stalled || s.graphErr != nil || o.err != nil) {
		return // converged, gone, or an ordinary wait (e.g. MobileRequired): nothing to warn about
	}
	if prev := meta.FindStatusCondition(before.Status.Conditions, identityv1alpha1.ConditionReady); prev != nil && prev.Reason == o.reason {
		return
	}
	note := o.message
	if id := requestIDOf(s.graphErr); id != "" {
		note += " (Graph request-id " + id + ")"
	}
	r.Recorder.Eventf(s.pam, nil, corev1.EventTypeWarning, o.reason, "Reconcile", "%s", note)
}

// recordFixedLine records one Warning event when the FixedLine condition appears.
func (r *PhoneAuthMethodReconciler) recordFixedLine(before *identityv1alpha1.PhoneAuthMethod, s *scope) {
	if !s.fixedLine || meta.FindStatusCondition(before.Status.Conditions, identityv1alpha1.ConditionFixedLine) != nil {
		return
	}
	r.Recorder.Eventf(s.pam, nil, corev1.EventTypeWarning, identityv1alpha1.ReasonFixedLineNumber, "Validate",
		"The %s number is a fixed line: Graph accepts it, but SMS to it fails; use a mobile number", s.pam.Spec.PhoneType)
}

// recordSMSSignInRetiring records one Warning event when the SmsSignInRetiring condition
// appears: the condition stays while the date approaches, the event is said once (the status
// patch that added the condition succeeded, so the next pass finds it in before).
func (r *PhoneAuthMethodReconciler) recordSMSSignInRetiring(before *identityv1alpha1.PhoneAuthMethod, s *scope) {
	n := s.result.Notice
	if !s.planned || n == nil || meta.FindStatusCondition(before.Status.Conditions, identityv1alpha1.ConditionSmsSignInRetiring) != nil {
		return
	}
	r.Recorder.Eventf(s.pam, nil, corev1.EventTypeWarning, n.Reason, "Plan", "%s", n.Message)
}

// patchFinalizers writes the object's finalizers and nothing else: a merge patch carrying the
// resourceVersion that was read (so it conflicts as an Update would). An Update would send the
// cached object whole, and the cache drops what phoneop never reads (managedFields, kubectl's
// last-applied annotation; cachemeta.Strip): the API server keeps omitted managedFields,
// but an omitted annotation would be deleted, and the next kubectl apply would no longer know
// which fields it set.
func (r *PhoneAuthMethodReconciler) patchFinalizers(ctx context.Context, before, pam *identityv1alpha1.PhoneAuthMethod) error {
	return r.Patch(ctx, pam, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// staleReadRetry is how soon an object whose status write was refused as stale is looked at
// again: the informer is usually milliseconds behind the API server.
const staleReadRetry = time.Second

// patchStatus writes the status when, and only when, it differs from what was read: a steady
// state costs no API-server write. The patch carries the resourceVersion that was read, so a
// pass that started from a cache still behind phoneop's own last write (the next event of an
// object can arrive before its last status write reaches the informer) cannot overwrite the
// newer status with conditions whose transition times it made up anew; it reports stale
// instead.
func (r *PhoneAuthMethodReconciler) patchStatus(ctx context.Context, before, pam *identityv1alpha1.PhoneAuthMethod) (stale bool, err error) {
	if equality.Semantic.DeepEqual(before.Status, pam.Status) {
		return false, nil
	}
	err = r.Status().Patch(ctx, pam, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case apierrors.IsConflict(err):
		return true, nil
	}
	return false, err
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

// passPriority is the x-ms-throttle-priority of the pass's Graph reads: low for a resync sweep
// of an object already Ready for its generation (change-feed wakes look the same and go low
// too), normal when a spec change, a forced re-read or a deletion asked for the pass. Writes
// go out normal whatever the pass (internal/graph never sends a write low).
func passPriority(pam *identityv1alpha1.PhoneAuthMethod, priorReady bool) graph.Priority {
	if priorReady && pam.DeletionTimestamp.IsZero() && !forcedResync(pam) {
		return graph.PriorityLow
	}
	return graph.PriorityNormal
}

// isPending reports whether an object counts in its tenant's backlog: not converged for its
// current generation, and not being deleted.
func isPending(pam *identityv1alpha1.PhoneAuthMethod) bool {
	return !isReadyAndCurrent(pam) && pam.DeletionTimestamp.IsZero()
}

// SetupWithManager registers the indexes and watches:
//   - the object itself, on spec (generation) and annotation changes only, so our own status
//     writes do not wake us;
//   - sibling objects of the same user: an alternateMobile waits for its mobile, a mobile's
//     deletion waits for its alternate;
//   - the EntraTenant: its readiness or grant changed;
//   - Secrets (metadata only) named by phoneNumberFrom;
//   - Namespace labels (metadata only): a tenant's grant may have started or stopped matching;
//   - the change feed (Wakes): users someone changed outside phoneop.
func (r *PhoneAuthMethodReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := fieldindex.Add(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	r.backlog = fairqueue.NewBacklog()
	b := ctrl.NewControllerManagedBy(mgr)
	if r.Wakes != nil {
		b = b.WatchesRawSource(r.Wakes)
	}
	// No worker starts before the user index holds every object.
	b = b.WatchesRawSource(r.UserIndex.SyncSource())
	// A refunded change-budget token wakes the first object waiting for it.
	b = b.WatchesRawSource(r.Budgets.Source())
	return b.
		// The objects themselves, queued by their tenant's backlog (internal/fairqueue) instead of
		// For's first-in first-out.
		Watches(&identityv1alpha1.PhoneAuthMethod{}, fairqueue.EnqueueObjects(r.backlog, isPending), builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&identityv1alpha1.PhoneAuthMethod{}, fairqueue.EnqueueMapped(r.backlog, r.siblingsOf),
			builder.WithPredicates(siblingChanged)).
		Watches(&identityv1alpha1.EntraTenant{}, fairqueue.EnqueueMapped(r.backlog, r.objectsOfTenant),
			builder.WithPredicates(changefeed.NotOnlyFeedStatus)).
		Watches(&corev1.Secret{}, fairqueue.EnqueueMapped(r.backlog, r.objectsReadingSecret), builder.OnlyMetadata).
		Watches(&corev1.Namespace{}, fairqueue.EnqueueMapped(r.backlog, r.objectsInNamespace),
			builder.OnlyMetadata, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles, RateLimiter: retryLimiter()}).
		Named("phoneauthmethod").
		Complete(r)
}

// maxRetryDelay caps the per-object backoff of failed reconciles. controller-runtime's
// default grows to 1000 s, so after a Graph or API-server outage of a few minutes objects would
// wait up to a quarter of an hour to notice the recovery; a minute keeps recovery prompt while
// a failing object still costs at most one attempt a minute.
const maxRetryDelay = time.Minute

// retryLimiter is controller-runtime's default limiter (per-object exponential backoff from
// 5 ms, and 10 retries/s overall with a burst of 100) with the backoff capped at maxRetryDelay.
func retryLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// siblingChanged passes only the changes a sibling waits for: creation and deletion, a new
// generation, the user being resolved, and Ready flipping. Anything else (a status message, a
// retry) must not wake the sibling, or two failing siblings would wake each other forever.
var siblingChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, okOld := e.ObjectOld.(*identityv1alpha1.PhoneAuthMethod)
		n, okNew := e.ObjectNew.(*identityv1alpha1.PhoneAuthMethod)
		if !okOld || !okNew {
			return false
		}
		return o.Generation != n.Generation || o.Status.UserID != n.Status.UserID ||
			!o.DeletionTimestamp.Equal(n.DeletionTimestamp) ||
			meta.IsStatusConditionTrue(o.Status.Conditions, identityv1alpha1.ConditionReady) !=
				meta.IsStatusConditionTrue(n.Status.Conditions, identityv1alpha1.ConditionReady)
	},
}

func (r *PhoneAuthMethodReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
