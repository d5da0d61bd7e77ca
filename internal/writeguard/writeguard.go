// Package writeguard remembers the Graph writes phoneop made for an object until the object
// converges, so that the planner can tell a write Graph accepted but does not show yet (read
// lag) from one that never took, and never repeats the first. It decides nothing: its record is
// the planner's input (plan.Observed.WritesMade, NumberWriteRefused).
package writeguard

import (
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// maxGuardedWrites bounds status.writeGuard.writes (the CRD's MaxItems): an object that has
// not converged after this many distinct writes forgets the oldest.
const maxGuardedWrites = 16

// Guard remembers, per object and spec generation, the writes Graph accepted and the last
// time Graph refused a number write, until the object converges. It decides nothing: its record
// is the planner's input (plan.Observed.WritesMade, NumberWriteRefused), and the planner alone
// says whether a write may be repeated.
//
// A write is recorded by plan.WriteKey: a hash over the desired and the observed numbers,
// keyed with the install's status key (internal/statuskey), so that status shows nothing a
// reader could test guessed numbers against. The key outlives the process, or the record in
// status would stop matching after a restart.
//
// The record lives in two places. status.writeGuard keeps it across restarts and leader
// hand-overs. This process's memory keeps it across a pass that starts from a cached object
// older than the last status write (the informer trails the API server): that pass would not
// see the newest writes in status, and would make them again before its own status write is
// refused as stale. Each pass reads the union of both.
//
// Records are kept by name, so that the reconcile that finds an object gone (deleted without a
// finalizer, phoneop never saw it go) can drop its record; each carries the object's UID, so a
// new object of the same name does not inherit it.
type Guard struct {
	mu      sync.Mutex
	objects map[types.NamespacedName]guardRecord
}

// guardRecord is the record of one object, by UID.
type guardRecord struct {
	uid types.UID
	rec identityv1alpha1.WriteGuardStatus
}

// Load returns the object's record for its current generation: what status and this process
// remember, together.
func (g *Guard) Load(pam *identityv1alpha1.PhoneAuthMethod) identityv1alpha1.WriteGuardStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	rec := identityv1alpha1.WriteGuardStatus{Generation: pam.Generation}
	for _, from := range []*identityv1alpha1.WriteGuardStatus{pam.Status.WriteGuard, g.remembered(pam)} {
		if from == nil || from.Generation != pam.Generation {
			continue
		}
		for _, key := range from.Writes {
			rec.Writes = withWrite(rec.Writes, key)
		}
		rec.NumberRefusedAt = later(rec.NumberRefusedAt, from.NumberRefusedAt)
	}
	return rec
}

// Remember keeps rec as the object's record in this process.
func (g *Guard) Remember(pam *identityv1alpha1.PhoneAuthMethod, rec identityv1alpha1.WriteGuardStatus) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.objects == nil {
		g.objects = map[types.NamespacedName]guardRecord{}
	}
	g.objects[client.ObjectKeyFromObject(pam)] = guardRecord{uid: pam.UID, rec: *rec.DeepCopy()}
}

// Forget drops the record of the object of that name: it converged (a later drift is a new
// story) or is gone.
func (g *Guard) Forget(key types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.objects, key)
}

// remembered returns the record of this very object (same UID), or nil.
func (g *Guard) remembered(pam *identityv1alpha1.PhoneAuthMethod) *identityv1alpha1.WriteGuardStatus {
	if r, ok := g.objects[client.ObjectKeyFromObject(pam)]; ok && r.uid == pam.UID {
		return &r.rec
	}
	return nil
}

// RecordWrite adds a write Graph accepted (by its plan.WriteKey) to rec, the object's record
// for this pass, which the pass writes to status, and keeps rec in this process's memory.
func (g *Guard) RecordWrite(pam *identityv1alpha1.PhoneAuthMethod, rec *identityv1alpha1.WriteGuardStatus, key string) {
	rec.Writes = withWrite(rec.Writes, key)
	g.Remember(pam, *rec)
}

// RecordNumberRefusal records in rec, and in memory, that Graph refused a number write of the
// object with a conflict at at.
func (g *Guard) RecordNumberRefusal(pam *identityv1alpha1.PhoneAuthMethod, rec *identityv1alpha1.WriteGuardStatus, at time.Time) {
	refused := metav1.NewTime(at)
	rec.NumberRefusedAt = &refused
	g.Remember(pam, *rec)
}

// withWrite adds key once, keeping the newest maxGuardedWrites.
func withWrite(writes []string, key string) []string {
	if slices.Contains(writes, key) {
		return writes
	}
	writes = append(writes, key)
	return writes[max(0, len(writes)-maxGuardedWrites):]
}

// RefusedSince reports whether the record holds a number refusal after since.
func RefusedSince(rec identityv1alpha1.WriteGuardStatus, since time.Time) bool {
	return rec.NumberRefusedAt != nil && rec.NumberRefusedAt.After(since)
}

func later(a, b *metav1.Time) *metav1.Time {
	if a == nil || (b != nil && b.After(a.Time)) {
		return b
	}
	return a
}
