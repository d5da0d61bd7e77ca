package budget

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// waitGrace is how long a waiter keeps its place after the time it was told to come back: an
// object that no longer needs the budget (its spec was reverted, it was deleted) must not hold
// the line for long.
const waitGrace = 30 * time.Second

// waiter is an object waiting in line for a pool's token.
type waiter struct {
	key      types.NamespacedName
	deadline time.Time // its place is dropped after this
}

// waitlist is one pool's line of waiting objects, first come first served, in this process.
// It turns "every waiter comes back when a slot frees" into "the first waiter comes back for
// the first slot, the second for the second, …".
type waitlist []waiter

// prune drops the waiters whose place has lapsed.
func (l waitlist) prune(now time.Time) waitlist {
	out := l[:0:0]
	for _, w := range l {
		if now.Before(w.deadline) {
			out = append(out, w)
		}
	}
	return out
}

// ahead is how many waiters stand before key: its position when it waits, or the whole line
// when it does not (a newcomer queues behind them).
func (l waitlist) ahead(key types.NamespacedName) int {
	for i, w := range l {
		if w.key == key {
			return i
		}
	}
	return len(l)
}

// wait keeps (or adds) key's place until deadline.
func (l waitlist) wait(key types.NamespacedName, deadline time.Time) waitlist {
	for i := range l {
		if l[i].key == key {
			l[i].deadline = deadline
			return l
		}
	}
	return append(l, waiter{key: key, deadline: deadline})
}

// leave removes key from the line.
func (l waitlist) leave(key types.NamespacedName) waitlist {
	out := l[:0:0]
	for _, w := range l {
		if w.key != key {
			out = append(out, w)
		}
	}
	return out
}

// first is the waiter at the head of the line, other than key.
func (l waitlist) first(except types.NamespacedName) (types.NamespacedName, bool) {
	for _, w := range l {
		if w.key != except {
			return w.key, true
		}
	}
	return types.NamespacedName{}, false
}
