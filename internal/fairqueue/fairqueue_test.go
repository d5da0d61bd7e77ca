package fairqueue

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func TestPriorityFor(t *testing.T) {
	for ahead, want := range map[int]int{0: 0, 1: -1, 10: -10, 98: -98, 99: -99, 100: -99, 100000: -99} {
		if got := priorityFor(ahead); got != want {
			t.Errorf("priorityFor(%d) = %d, want %d", ahead, got, want)
		}
	}
	if minFairPriority <= handler.LowPriority {
		t.Errorf("a backlog's priority %d must stay above the initial list's %d", minFairPriority, handler.LowPriority)
	}
}

func TestTenantBacklogPutsASmallTenantFirst(t *testing.T) {
	b := NewBacklog()
	key := func(tenant string, i int) types.NamespacedName {
		return types.NamespacedName{Namespace: tenant, Name: fmt.Sprint(i)}
	}
	var last int
	for i := range 500 {
		last = b.Add(key("big", i), "big")
	}
	if last != minFairPriority {
		t.Fatalf("the big tenant's 500th object got priority %d, want %d", last, minFairPriority)
	}
	if p := b.Add(key("small", 0), "small"); p != 0 {
		t.Errorf("a small tenant's first object got priority %d, want 0 (ahead of the big backlog)", p)
	}
	if p := b.Add(key("small", 1), "small"); p != -1 {
		t.Errorf("its second got %d, want -1", p)
	}
	if p := b.Add(key("small", 1), "small"); p != -1 {
		t.Errorf("adding an object twice counted it twice: priority %d, want -1", p)
	}
	if p := b.Priority(key("big", 7)); p != minFairPriority {
		t.Errorf("a deferred big-tenant object requeues at %d, want %d", p, minFairPriority)
	}
	for i := range 450 {
		b.Done(key("big", i))
	}
	if p := b.Priority(key("big", 499)); p != -49 {
		t.Errorf("after 450 converged, the big tenant's priority is %d, want -49", p)
	}
	if p := b.Add(key("small", 1), "big"); p != -50 {
		t.Errorf("an object moved to another tenant got %d, want -50 (counted for its new tenant)", p)
	}
	if p := b.Priority(key("small", 0)); p != 0 {
		t.Errorf("the small tenant's remaining object is at %d, want 0", p)
	}
	b.Done(key("nobody", 1)) // unknown keys are ignored
	var none *Backlog
	if none.Add(key("x", 1), "x") != 0 || none.Priority(key("x", 1)) != 0 {
		t.Error("a nil backlog must give priority 0")
	}
	none.Done(key("x", 1))
}

// A sibling's change must not lift a large tenant's pending object back in front of a small
// tenant's: the queue keeps the highest priority an item was given.
func TestFairMapFuncKeepsTheBacklogsPriority(t *testing.T) {
	b := NewBacklog()
	bigKey := types.NamespacedName{Namespace: "big", Name: "waiting"}
	for i := range 150 {
		b.Add(types.NamespacedName{Namespace: "big", Name: fmt.Sprint(i)}, "big")
	}
	b.Add(bigKey, "big")
	smallKey := types.NamespacedName{Namespace: "small", Name: "new"}
	smallPriority := b.Add(smallKey, "small")

	q := priorityqueue.New[reconcile.Request]("fairness-test")
	defer q.ShutDown()
	siblingOf := func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: bigKey}}
	}
	h := EnqueueMapped(b, siblingOf)
	h.Create(context.Background(), event.CreateEvent{Object: &identityv1alpha1.PhoneAuthMethod{}}, q)
	q.AddWithOpts(priorityqueue.AddOpts{Priority: &smallPriority}, reconcile.Request{NamespacedName: smallKey})

	first, priority, _ := q.GetWithPriority()
	if first.NamespacedName != smallKey {
		t.Errorf("first out: %v at priority %d, want the small tenant's %v", first, priority, smallKey)
	}
	second, priority, _ := q.GetWithPriority()
	if second.NamespacedName != bigKey || priority != minFairPriority {
		t.Errorf("second out: %v at priority %d, want %v at %d", second, priority, bigKey, minFairPriority)
	}
}
