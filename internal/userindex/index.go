package userindex

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
	"sigs.k8s.io/controller-runtime/pkg/source"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// Index finds a tenant's PhoneAuthMethods of one user, whether they name the user by UPN
// or by object id: slot owners, siblings and the change feed's users are all found through it.
//
// It is not an informer field index because of memory: client-go keeps a set (a map) per index
// value, and a user's one or two objects each cost about 700 bytes of index there, the largest
// part of the cache after the objects themselves (docs/benchmarks.md, "Where the manager's
// memory goes"). Here a value is a slice of one or two keys, whose strings are the cached
// objects' own.
//
// It follows the PhoneAuthMethod informer through an event handler, so it trails the cache by
// the handler's delivery: a lookup may miss an object the cache got a moment ago, or name one
// it just dropped (callers skip those). The cache itself trails the API server the same way.
type Index struct {
	mu       sync.RWMutex
	byUser   map[Ref][]types.NamespacedName
	byTenant map[string]int // tenant → how many keys of byUser it has
	synced   func() bool    // the handler registration's HasSynced; nil until Watch
}

// Ref is one (tenant, user) key: the tenant's name and the user's UPN (lower-case, as
// UPNs compare) or object id.
type Ref struct{ tenant, user string }

func NewRef(tenant, user string) Ref {
	// strings.ToLower returns its argument, without a copy, when it is lower-case already.
	return Ref{tenant: tenant, user: strings.ToLower(user)}
}

// RefsOf are an object's keys: by spec.user and by the resolved object id.
func RefsOf(p *identityv1alpha1.PhoneAuthMethod) []Ref {
	refs := []Ref{NewRef(p.Spec.TenantRef.Name, p.Spec.User)}
	if id := p.Status.UserID; id != "" && !strings.EqualFold(id, p.Spec.User) {
		refs = append(refs, NewRef(p.Spec.TenantRef.Name, id))
	}
	return refs
}

// New returns an empty index; Watch fills it from the manager's cache, tests with
// OnAdd.
func New() *Index {
	return &Index{byUser: map[Ref][]types.NamespacedName{}, byTenant: map[string]int{}}
}

// Watch registers the index with the PhoneAuthMethod informer of c. Call it before the cache
// starts (in Setup), so that the informer's first list reaches it.
func (x *Index) Watch(ctx context.Context, c cache.Informers) error {
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
func (x *Index) Synced() bool {
	x.mu.RLock()
	synced := x.synced
	x.mu.RUnlock()
	return synced == nil || synced()
}

// ErrNotSynced is what a lookup answers before the index is synced.
var ErrNotSynced = errors.New("the user index has not seen every PhoneAuthMethod yet")

// OnAdd, OnUpdate and OnDelete make the index a toolscache.ResourceEventHandler.
func (x *Index) OnAdd(obj any, _ bool) {
	if p, ok := obj.(*identityv1alpha1.PhoneAuthMethod); ok {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.add(p)
	}
}

func (x *Index) OnUpdate(oldObj, newObj any) {
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

func (x *Index) OnDelete(obj any) {
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

func (x *Index) add(p *identityv1alpha1.PhoneAuthMethod) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	for _, ref := range RefsOf(p) {
		keys := x.byUser[ref]
		if len(keys) == 0 {
			x.byTenant[ref.tenant]++
		}
		if !slices.Contains(keys, key) {
			x.byUser[ref] = append(keys, key)
		}
	}
}

func (x *Index) remove(p *identityv1alpha1.PhoneAuthMethod) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	for _, ref := range RefsOf(p) {
		// In place: lookups copy what they read while holding the read lock.
		keys := slices.DeleteFunc(x.byUser[ref], func(k types.NamespacedName) bool { return k == key })
		if len(keys) == 0 {
			x.forgetRef(ref)
		} else {
			x.byUser[ref] = keys
		}
	}
}

// forgetRef drops a key no object holds any more.
func (x *Index) forgetRef(ref Ref) {
	if _, ok := x.byUser[ref]; !ok {
		return
	}
	delete(x.byUser, ref)
	if x.byTenant[ref.tenant]--; x.byTenant[ref.tenant] <= 0 {
		delete(x.byTenant, ref.tenant)
	}
}

// Keys returns how many user keys the tenant's objects hold: each user once by the UPN or id
// its objects name, and once more by its object id when they name a UPN and phoneop resolved
// it. It sizes work per tenant (usercache.Cache.Fill), so it needs no sync.
func (x *Index) Keys(tenant string) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byTenant[tenant]
}

// lookup returns the keys of the objects under any of refs, each once.
func (x *Index) lookup(refs []Ref) ([]types.NamespacedName, error) {
	if !x.Synced() {
		return nil, ErrNotSynced
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

// Objects reads, from reader (the cache), the objects under any of refs; one the cache no
// longer has is gone and skipped.
func (x *Index) Objects(ctx context.Context, reader client.Reader, refs []Ref) ([]identityv1alpha1.PhoneAuthMethod, error) {
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
func (x *Index) SyncSource() source.SyncingSource { return &syncSource{index: x} }

type syncSource struct{ index *Index }

func (syncSource) Start(context.Context, workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	return nil
}

func (s syncSource) WaitForSync(ctx context.Context) error {
	if !toolscache.WaitForCacheSync(ctx.Done(), s.index.Synced) {
		return errors.Join(ErrNotSynced, ctx.Err())
	}
	return nil
}
