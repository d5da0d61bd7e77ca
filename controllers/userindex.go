package controllers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// UserIndex finds a tenant's PhoneAuthMethods of one user, whether they name the user by UPN
// or by object id: slot owners, siblings and the change feed's users are all found through it.
//
// It replaces an informer field index. client-go keeps a set (a map) per index value, and a
// user's one or two objects each cost about 700 bytes of index there: the largest part of the
// cache after the objects themselves (docs/benchmarks.md, "Where the manager's memory goes").
// Here a value is a slice of one or two keys, whose strings are the cached objects' own.
//
// It follows the PhoneAuthMethod informer through an event handler, so it trails the cache by
// the handler's delivery: a lookup may miss an object the cache got a moment ago, or name one
// it just dropped (callers skip those). The cache itself trails the API server the same way.
type UserIndex struct {
	mu     sync.RWMutex
	byUser map[userRef][]types.NamespacedName
	synced func() bool // the handler registration's HasSynced; nil until Watch
}

// userRef is one (tenant, user) key: the tenant's name and the user's UPN (lower-case, as
// UPNs compare) or object id.
type userRef struct{ tenant, user string }

func newUserRef(tenant, user string) userRef {
	// strings.ToLower returns its argument, without a copy, when it is lower-case already.
	return userRef{tenant: tenant, user: strings.ToLower(user)}
}

// userRefs are an object's keys: by spec.user and by the resolved object id.
func userRefs(p *identityv1alpha1.PhoneAuthMethod) []userRef {
	refs := []userRef{newUserRef(p.Spec.TenantRef.Name, p.Spec.User)}
	if id := p.Status.UserID; id != "" && !strings.EqualFold(id, p.Spec.User) {
		refs = append(refs, newUserRef(p.Spec.TenantRef.Name, id))
	}
	return refs
}

// NewUserIndex returns an empty index; Watch fills it from the manager's cache, tests with
// OnAdd.
func NewUserIndex() *UserIndex {
	return &UserIndex{byUser: map[userRef][]types.NamespacedName{}}
}

// Watch registers the index with the PhoneAuthMethod informer of c. Call it before the cache
// starts (in Setup), so that the informer's first list reaches it.
func (x *UserIndex) Watch(ctx context.Context, c cache.Informers) error {
	inf, err := c.GetInformer(ctx, &identityv1alpha1.PhoneAuthMethod{})
	if err != nil {
		return err
	}
	reg, err := inf.AddEventHandler(x)
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.synced = reg.HasSynced
	x.mu.Unlock()
	return nil
}

// Synced reports whether the index holds every object of the informer's first list; before
// that a lookup could miss a user's objects. An index that Watch never started (unit tests)
// is synced.
func (x *UserIndex) Synced() bool {
	x.mu.RLock()
	synced := x.synced
	x.mu.RUnlock()
	return synced == nil || synced()
}

// errIndexNotSynced is what a lookup answers before the index is synced.
var errIndexNotSynced = errors.New("the user index has not seen every PhoneAuthMethod yet")

// OnAdd, OnUpdate and OnDelete make the index a toolscache.ResourceEventHandler.
func (x *UserIndex) OnAdd(obj any, _ bool) {
	if p, ok := obj.(*identityv1alpha1.PhoneAuthMethod); ok {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.add(p)
	}
}

func (x *UserIndex) OnUpdate(oldObj, newObj any) {
	o, okOld := oldObj.(*identityv1alpha1.PhoneAuthMethod)
	n, okNew := newObj.(*identityv1alpha1.PhoneAuthMethod)
	if !okOld || !okNew || sameRefs(o, n) {
		return // most updates are status writes that keep both keys
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(o)
	x.add(n)
}

func (x *UserIndex) OnDelete(obj any) {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if p, ok := obj.(*identityv1alpha1.PhoneAuthMethod); ok {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.remove(p)
	}
}

func sameRefs(o, n *identityv1alpha1.PhoneAuthMethod) bool {
	return o.Spec.TenantRef.Name == n.Spec.TenantRef.Name && o.Spec.User == n.Spec.User && o.Status.UserID == n.Status.UserID
}

func (x *UserIndex) add(p *identityv1alpha1.PhoneAuthMethod) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	for _, ref := range userRefs(p) {
		if keys := x.byUser[ref]; !slices.Contains(keys, key) {
			x.byUser[ref] = append(keys, key)
		}
	}
}

func (x *UserIndex) remove(p *identityv1alpha1.PhoneAuthMethod) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	for _, ref := range userRefs(p) {
		// In place: lookups copy what they read while holding the read lock.
		keys := slices.DeleteFunc(x.byUser[ref], func(k types.NamespacedName) bool { return k == key })
		if len(keys) == 0 {
			delete(x.byUser, ref)
		} else {
			x.byUser[ref] = keys
		}
	}
}

// lookup returns the keys of the objects under any of refs, each once.
func (x *UserIndex) lookup(refs []userRef) ([]types.NamespacedName, error) {
	if !x.Synced() {
		return nil, errIndexNotSynced
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []types.NamespacedName
	for _, ref := range refs {
		for _, k := range x.byUser[ref] {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// objects reads, from reader (the cache), the objects under any of refs; one the cache no
// longer has is gone and skipped.
func (x *UserIndex) objects(ctx context.Context, reader client.Reader, refs []userRef) ([]identityv1alpha1.PhoneAuthMethod, error) {
	keys, err := x.lookup(refs)
	if err != nil {
		return nil, err
	}
	out := make([]identityv1alpha1.PhoneAuthMethod, 0, len(keys))
	for _, k := range keys {
		var p identityv1alpha1.PhoneAuthMethod
		if err := reader.Get(ctx, k, &p); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// SyncSource is a controller source that sends no events and holds the controller's workers
// until the index is synced (controller-runtime waits for every SyncingSource before starting
// them), so that no reconcile decides a slot's owner from a half-filled index.
func (x *UserIndex) SyncSource() *userIndexSync { return &userIndexSync{index: x} }

type userIndexSync struct{ index *UserIndex }

func (userIndexSync) Start(context.Context, workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	return nil
}

func (s userIndexSync) WaitForSync(ctx context.Context) error {
	if !toolscache.WaitForCacheSync(ctx.Done(), s.index.Synced) {
		return errors.Join(errIndexNotSynced, ctx.Err())
	}
	return nil
}
