package changefeed

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// wakeEvent asks for one PhoneAuthMethod to be reconciled after a delay (0: now).
type wakeEvent struct {
	key   types.NamespacedName
	after time.Duration
}

// Source is the PhoneAuthMethod controller's view of the feed: a channel of wake events
// (controller-runtime's source.Channel, for events from outside the cluster). An event with a
// delay is added with AddAfter, which keeps an earlier time the object is already due at.
func (f *Feeds) Source() source.Source {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wakes == nil {
		f.wakes = make(chan event.TypedGenericEvent[wakeEvent])
	}
	return source.TypedChannel[wakeEvent, reconcile.Request](f.wakes, handler.TypedFuncs[wakeEvent, reconcile.Request]{
		GenericFunc: enqueueWake,
	})
}

// enqueueWake adds the woken object to the controller's queue.
func enqueueWake(_ context.Context, e event.TypedGenericEvent[wakeEvent], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	req := reconcile.Request{NamespacedName: e.Object.key}
	if e.Object.after > 0 {
		q.AddAfter(req, e.Object.after)
		return
	}
	q.Add(req)
}

// wake sends one event; it waits while the controller is not started yet or busy taking
// earlier events, until ctx ends. Without a Source (the feed is not wired to a controller)
// nothing is woken.
func (f *Feeds) wake(ctx context.Context, e wakeEvent) error {
	f.mu.Lock()
	ch := f.wakes
	f.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case ch <- event.TypedGenericEvent[wakeEvent]{Object: e}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
