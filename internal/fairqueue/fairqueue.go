package fairqueue

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// minFairPriority is the lowest priority a backlog earns: just above the priority that
// controller-runtime gives the initial list after a restart (handler.LowPriority), which
// must stay the lowest so that new work goes before re-checking unchanged objects.
const minFairPriority = handler.LowPriority + 1

// Backlog counts each tenant's pending objects. A nil backlog (a reconciler built by a
// unit test) counts nothing.
type Backlog struct {
	mu       sync.Mutex
	tenantOf map[types.NamespacedName]string // pending object → its tenant
	pending  map[string]int                  // tenant → pending objects
}

func NewBacklog() *Backlog {
	return &Backlog{tenantOf: map[types.NamespacedName]string{}, pending: map[string]int{}}
}

// Add marks the object pending (once) and returns its tenant's priority, counted before
// it: a tenant's first pending object gets 0, its hundredth and later minFairPriority.
func (b *Backlog) Add(key types.NamespacedName, tenant string) int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.tenantOf[key]; ok && old != tenant {
		b.removeLocked(key)
	}
	if _, ok := b.tenantOf[key]; !ok {
		b.tenantOf[key] = tenant
		b.pending[tenant]++
	}
	return priorityFor(b.pending[tenant] - 1)
}

// Priority is the tenant's priority for the object's next turn, without adding it.
func (b *Backlog) Priority(key types.NamespacedName) int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tenant, ok := b.tenantOf[key]
	if !ok {
		return 0
	}
	return priorityFor(b.pending[tenant] - 1)
}

// Done marks the object no longer pending: converged, or gone.
func (b *Backlog) Done(key types.NamespacedName) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.removeLocked(key)
}

func (b *Backlog) removeLocked(key types.NamespacedName) {
	tenant, ok := b.tenantOf[key]
	if !ok {
		return
	}
	delete(b.tenantOf, key)
	if b.pending[tenant]--; b.pending[tenant] <= 0 {
		delete(b.pending, tenant)
	}
}

// priorityFor maps the number of a tenant's objects already pending to a queue priority.
func priorityFor(ahead int) int {
	return max(-ahead, minFairPriority)
}

// EnqueueObjects is handler.EnqueueRequestForObject for PhoneAuthMethods with the tenant's
// backlog priority on creates and updates of objects that are not converged. The initial
// list after a restart keeps controller-runtime's low priority, and converged objects
// (an annotation change, say) the normal one.
// pending says whether an object counts in its tenant's backlog (not converged, not deleted).
func EnqueueObjects(b *Backlog, pending func(*identityv1alpha1.PhoneAuthMethod) bool) handler.EventHandler {
	enqueue := func(o client.Object, initialList bool, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		pam, isPAM := o.(*identityv1alpha1.PhoneAuthMethod)
		if !isPAM || pam == nil {
			return
		}
		req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: pam.Namespace, Name: pam.Name}}
		priority := 0
		switch {
		case initialList:
			priority = handler.LowPriority
		case pending(pam):
			priority = b.Add(req.NamespacedName, pam.Spec.TenantRef.Name)
		}
		AddAt(q, req, priority)
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, e.IsInInitialList, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.ObjectNew, false, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: e.Object.GetNamespace(), Name: e.Object.GetName()}})
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, false, q)
		},
	}
}

// EnqueueMapped is handler.EnqueueRequestsFromMapFunc with the same ordering: every request it
// maps an event to is queued at its object's backlog priority (0 when the object is not
// pending). Without it, a sibling's or a tenant's change would lift a large tenant's pending
// objects to priority 0 — the queue keeps the highest priority it was given — and put them
// back in front of a small tenant's.
func EnqueueMapped(b *Backlog, fn handler.MapFunc) handler.EventHandler {
	enqueue := func(ctx context.Context, initialList bool, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		seen := map[reconcile.Request]bool{}
		for _, o := range objs {
			if o == nil {
				continue
			}
			for _, req := range fn(ctx, o) {
				if seen[req] {
					continue
				}
				seen[req] = true
				priority := b.Priority(req.NamespacedName)
				if initialList {
					priority = handler.LowPriority
				}
				AddAt(q, req, priority)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.IsInInitialList, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, false, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, false, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, false, q, e.Object)
		},
	}
}

// AddAt queues req at priority when the queue is controller-runtime's priority queue (the
// default), and plainly otherwise.
func AddAt(q workqueue.TypedRateLimitingInterface[reconcile.Request], req reconcile.Request, priority int) {
	pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request])
	if !ok {
		q.Add(req)
		return
	}
	pq.AddWithOpts(priorityqueue.AddOpts{Priority: &priority}, req)
}
