package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// tracker watches every PhoneAuthMethod and records when each first became Ready (True, for
// its current generation) and how many times objects were written after a given moment: the
// watch sees every write, the manager's status patches included, without polling.
type tracker struct {
	// reader reads the watched objects from the watch's cache (no API-server request).
	reader  client.Reader
	mu      sync.Mutex
	readyAt map[string]time.Time // namespace/name → first Ready
	writes  int                  // update events since the last resetWrites
	changed chan struct{}        // signalled (non-blocking) on every Ready transition
	lastMod time.Time            // time of the latest update event
}

func startTracker(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, namespaces ...string) (*tracker, error) {
	t := &tracker{readyAt: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	watched := map[string]cache.Config{}
	for _, ns := range namespaces {
		watched[ns] = cache.Config{}
	}
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: watched})
	if err != nil {
		return nil, err
	}
	t.reader = c
	inf, err := c.GetInformer(ctx, &identityv1alpha1.PhoneAuthMethod{})
	if err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { t.observe(o, false) },
		UpdateFunc: func(_, o any) { t.observe(o, true) },
	}); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the benchmark's watch of PhoneAuthMethods did not sync")
	}
	return t, nil
}

func (t *tracker) observe(o any, update bool) {
	p, ok := o.(*identityv1alpha1.PhoneAuthMethod)
	if !ok {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if update {
		t.writes++
		t.lastMod = now
	}
	key := p.Namespace + "/" + p.Name
	if _, seen := t.readyAt[key]; seen {
		return
	}
	c := meta.FindStatusCondition(p.Status.Conditions, identityv1alpha1.ConditionReady)
	if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation {
		t.readyAt[key] = now
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

func (t *tracker) ready() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.readyAt)
}

// waitReady blocks until n objects have been Ready, the deadline passes, or alive reports
// the manager gone; progress is logged every 30 s.
func (t *tracker) waitReady(ctx context.Context, n int, timeout time.Duration, alive func() error, logf func(string, ...any)) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		if got := t.ready(); got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("only %d of %d PhoneAuthMethods Ready after %s", t.ready(), n, timeout)
		case <-tick.C:
			if err := alive(); err != nil {
				return err
			}
			logf("bench: %d/%d Ready", t.ready(), n)
		case <-t.changed:
		}
	}
}

// readyTimes returns the Ready times as offsets from start, sorted.
func (t *tracker) readyTimes(start time.Time) []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.readyAt))
	for _, at := range t.readyAt {
		out = append(out, at.Sub(start))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// resetWrites starts counting object writes afresh.
func (t *tracker) resetWrites() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writes = 0
}

func (t *tracker) writeCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes
}

// quietFor waits until no object was written for d (the tail of the creation: sibling
// re-reads, last status patches), or until max passes.
func (t *tracker) quietFor(ctx context.Context, d, max time.Duration) {
	end := time.Now().Add(max)
	for time.Now().Before(end) && ctx.Err() == nil {
		t.mu.Lock()
		last := t.lastMod
		t.mu.Unlock()
		if time.Since(last) >= d {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// objects lists every watched PhoneAuthMethod as the watch last saw it.
func (t *tracker) objects(ctx context.Context) ([]identityv1alpha1.PhoneAuthMethod, error) {
	var list identityv1alpha1.PhoneAuthMethodList
	if err := t.reader.List(ctx, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// lastWrite is the time of the latest update event.
func (t *tracker) lastWrite() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastMod
}
