package controllers

import (
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/plan"
)

// WriteGuard makes loops on writes impossible by construction: each object makes a given write
// (action and value) against a given observation of Graph at most once per spec generation,
// until it converges. If Graph accepts a write and then keeps reporting a value phoneop does
// not consider equal (a form it stores differently, a write it silently drops), the second
// attempt is refused here instead of repeating every pass and every resync.
//
// It lives in the process: after a restart an object may repeat one write per observation.
// Memory follows the objects with unconverged writes only; converging forgets them.
//
// It also remembers when Graph last refused a number write of the object with a conflict that
// did not save (409 phoneNumberNotUnique, the holder possibly a deleted user): until the slow
// retry is due, no pass writes that number again, whatever wakes the object (a sibling's change,
// for one).
type WriteGuard struct {
	mu      sync.Mutex
	objects map[types.UID]guardedWrites
}

type guardedWrites struct {
	generation int64
	keys       map[string]bool
	refusedAt  time.Time
}

// writeKey identifies a write and the observation it is made against, as a short hash: it is
// shown in conditions, and must never carry a number.
func writeKey(a plan.Action, before *graph.PhoneMethod) string {
	observed := "absent"
	if before != nil {
		observed = before.ID + "|" + before.PhoneNumber + "|" + before.SMSSignInState
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(string(a.Kind) + "|" + string(a.PhoneType) + "|" + a.Number + "|" + observed))
	return fmt.Sprintf("%08x", h.Sum32())
}

// made reports whether the object already made this write for its current generation.
func (g *WriteGuard) made(pam *identityv1alpha1.PhoneAuthMethod, key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	w, ok := g.objects[pam.UID]
	return ok && w.generation == pam.Generation && w.keys[key]
}

// record remembers a write Graph accepted.
func (g *WriteGuard) record(pam *identityv1alpha1.PhoneAuthMethod, key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.entryLocked(pam)
	w.keys[key] = true
	g.objects[pam.UID] = w
}

// recordRefusal remembers that Graph refused a number write of the object with a conflict.
func (g *WriteGuard) recordRefusal(pam *identityv1alpha1.PhoneAuthMethod, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.entryLocked(pam)
	w.refusedAt = at
	g.objects[pam.UID] = w
}

// refusedSince reports whether Graph refused a number write of the object, for its current
// generation, after since.
func (g *WriteGuard) refusedSince(pam *identityv1alpha1.PhoneAuthMethod, since time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	w, ok := g.objects[pam.UID]
	return ok && w.generation == pam.Generation && w.refusedAt.After(since)
}

// entryLocked returns the object's entry for its current generation, fresh if the generation
// moved on.
func (g *WriteGuard) entryLocked(pam *identityv1alpha1.PhoneAuthMethod) guardedWrites {
	if g.objects == nil {
		g.objects = map[types.UID]guardedWrites{}
	}
	w, ok := g.objects[pam.UID]
	if !ok || w.generation != pam.Generation {
		w = guardedWrites{generation: pam.Generation, keys: map[string]bool{}}
	}
	return w
}

// forget drops an object's writes: it converged (a later drift is a new story) or is gone.
func (g *WriteGuard) forget(uid types.UID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.objects, uid)
}
