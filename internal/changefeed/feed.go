package changefeed

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
	"github.com/phoneop/phoneop/internal/conditions"
	"github.com/phoneop/phoneop/internal/observe"
	"github.com/phoneop/phoneop/internal/schedule"
	"github.com/phoneop/phoneop/internal/tenantconn"
	"github.com/phoneop/phoneop/internal/userindex"
)

// Connector turns EntraTenants into Graph connections; *tenantconn.Connector implements it,
// and tests substitute a fixed connection.
type Connector interface {
	Connect(ctx context.Context, t *identityv1alpha1.EntraTenant) (*tenantconn.Connection, error)
}

// Feeds reads the audit log of every EntraTenant with spec.changeFeed enabled and wakes
// exactly the managed users someone changed outside phoneop (see docs/operations.md, "Change
// feed"). While a tenant's feed is healthy, its converged objects re-read Graph only every
// sweepPeriod (SweepPeriod); when it fails they fall back to --resync-period.
//
// It is a manager Runnable that needs leader election: only the replica that reconciles
// polls, and it stops with the manager.
type Feeds struct {
	// Client reads EntraTenants and PhoneAuthMethods from the manager's cache and writes the
	// tenants' status (watermark, ChangeFeed condition).
	Client client.Client
	// Connector turns EntraTenants into Graph connections (shared with the reconcilers, so
	// the feed's reads count against the same tenant throttle).
	Connector Connector
	// Observer is the reconciler's; a woken user's cached list is dropped first.
	Observer *observe.Observer
	// UserIndex finds the objects of a user the feed reports (the reconciler's).
	UserIndex *userindex.Index
	// ResyncPeriod is --resync-period, the fallback.
	ResyncPeriod time.Duration
	// Tick is how often tenants are checked for a due poll; zero means one second.
	Tick time.Duration
	// Owns, when set, tells the tenants whose status this manager's shard writes (internal/shard,
	// --shard); every shard polls the feeds its objects need and wakes its own objects, but
	// only the tenant's own shard persists the watermark and the condition. Nil owns all.
	Owns func(*identityv1alpha1.EntraTenant) bool
	// Writes are the Graph writes this manager made (RecordingConnector records them): an
	// audit entry made with the tenant's app id that none of them accounts for is reported as
	// suspected use of phoneop's credential. Nil: every such entry is reported.
	Writes *WriteLog
	// Recorder, when set, records a Warning Event on the EntraTenant for each such entry.
	Recorder events.EventRecorder
	// ReportsShare is this process's part of Graph's reports limits (limits.go) when shards
	// poll the same tenants: graph.Limits.Share. Zero means 1.
	ReportsShare float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	reports     reportsLimiter
	reportsInit sync.Once
	wakes       chan event.TypedGenericEvent[wakeEvent]
	mu          sync.Mutex
	feeds       map[string]*tenantFeed // by EntraTenant name
	polls       sync.WaitGroup
}

// tenantFeed is one tenant's feed. The poll goroutine owns seen; the other fields are read by
// reconcilers and scrapes and guarded by Feeds.mu.
type tenantFeed struct {
	uid      types.UID
	tenantID string // the Entra tenant id, the metrics' label
	// watermark is the start of the last successful poll; persisted is the one last written
	// to the tenant's status.
	watermark, persisted time.Time
	facts                feedFacts
	health               feedHealth
	nextPoll             time.Time
	polling              bool
	seen                 seenEntries
	// entries counts the new entries read, woken the users re-read because of them,
	// unattributed the entries made with phoneop's app id that this manager did not make.
	entries, woken, unattributed uint64
}

var (
	_ manager.Runnable               = (*Feeds)(nil)
	_ manager.LeaderElectionRunnable = (*Feeds)(nil)
	_ schedule.Sweeps                = (*Feeds)(nil)
)

// NeedLeaderElection implements manager.LeaderElectionRunnable: a standby must not poll, nor
// wake objects it does not reconcile.
func (f *Feeds) NeedLeaderElection() bool { return true }

// Start implements manager.Runnable: every Tick it starts the polls that are due, until ctx
// ends, then waits for the polls in flight.
func (f *Feeds) Start(ctx context.Context) error {
	// A poll wakes users through the user index: before it holds every object, a woken user's
	// objects could be missed, and the entry would still count as handled.
	if f.UserIndex != nil && !toolscache.WaitForCacheSync(ctx.Done(), f.UserIndex.Synced) {
		return nil // stopped before the index synced
	}
	tick := time.NewTicker(f.tick())
	defer tick.Stop()
	for {
		f.scan(ctx)
		select {
		case <-ctx.Done():
			f.polls.Wait()
			return nil
		case <-tick.C:
		}
	}
}

// SweepPeriod implements schedule.Sweeps: the tenant's sweepPeriod while its feed is healthy.
func (f *Feeds) SweepPeriod(tenant string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if feed, ok := f.feeds[tenant]; ok && feed.health.healthy() {
		return feed.facts.sweep
	}
	return 0
}

// scan starts the due polls and stops the feeds of tenants that turned theirs off, are gone,
// or lost their tenant id to an older EntraTenant.
func (f *Feeds) scan(ctx context.Context) {
	var list identityv1alpha1.EntraTenantList
	if err := f.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing EntraTenants for the change feed")
		return
	}
	present, owning := map[string]bool{}, map[string]bool{}
	for _, t := range budget.Owners(list.Items) {
		owning[t.Name] = true
	}
	for i := range list.Items {
		t := &list.Items[i]
		present[t.Name] = true
		// A second EntraTenant for a tenant id (Conflict) gets no feed of its own: it would
		// read the same audit log again, against the same reports limit.
		if !t.Spec.ChangeFeed.IsEnabled() || !owning[t.Name] {
			f.stop(ctx, t)
			continue
		}
		if feed := f.due(t); feed != nil {
			f.polls.Add(1)
			go func() {
				defer f.polls.Done()
				f.poll(ctx, t, feed)
			}()
		}
	}
	f.forgetGone(present)
}

// due returns the tenant's feed when a poll should start now (marking it polling), else nil.
// A paused tenant is not polled, and its pause does not count as a failure.
func (f *Feeds) due(t *identityv1alpha1.EntraTenant) *tenantFeed {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	feed := f.feedOf(t, now)
	feed.facts.interval, feed.facts.sweep = t.Spec.ChangeFeed.Interval(), t.Spec.ChangeFeed.Sweep()
	if identityv1alpha1.IsPaused(t) {
		feed.facts.okSince = now
		return nil
	}
	if feed.polling || now.Before(feed.nextPoll) {
		return nil
	}
	feed.polling = true
	return feed
}

// feedOf returns the tenant's feed, taking it over from the tenant's status when this process
// has none yet (or the EntraTenant was re-created). The caller holds f.mu.
func (f *Feeds) feedOf(t *identityv1alpha1.EntraTenant, now time.Time) *tenantFeed {
	if feed, ok := f.feeds[t.Name]; ok && feed.uid == t.UID {
		return feed
	}
	if f.feeds == nil {
		f.feeds = map[string]*tenantFeed{}
	}
	feed := takeOver(t, now)
	f.feeds[t.Name] = feed
	return feed
}

// takeOver starts a tenant's feed from what its status persisted: the watermark (or now, for a
// feed never run), and whether the feed was healthy, so that a restart does not send every
// object back to --resync-period. Every object reads Graph once when the manager starts, and
// the first poll covers the log since the watermark.
func takeOver(t *identityv1alpha1.EntraTenant, now time.Time) *tenantFeed {
	feed := &tenantFeed{uid: t.UID, tenantID: t.Spec.TenantID, watermark: now, seen: seenEntries{}}
	if st := t.Status.ChangeFeed; st != nil && st.Watermark != nil {
		feed.watermark = st.Watermark.Time
		feed.persisted = st.Watermark.Time
		_, gap := pollWindow(feed.watermark, now)
		feed.facts.trusted = !gap && meta.IsStatusConditionTrue(t.Status.Conditions, identityv1alpha1.ConditionChangeFeed)
	}
	feed.facts.okSince = now
	feed.facts.interval, feed.facts.sweep = t.Spec.ChangeFeed.Interval(), t.Spec.ChangeFeed.Sweep()
	feed.facts.now = now
	feed.health = decideHealth(feed.facts)
	return feed
}

// stop ends the feed of a tenant that turned it off: its objects go back to --resync-period,
// and the feed's condition and watermark leave the status.
func (f *Feeds) stop(ctx context.Context, t *identityv1alpha1.EntraTenant) {
	f.mu.Lock()
	feed, ok := f.feeds[t.Name]
	if ok && !feed.polling {
		delete(f.feeds, t.Name)
	}
	f.mu.Unlock()
	if ok && !feed.polling && feed.health.healthy() {
		f.fallBack(ctx, t.Name)
	}
	if (f.Owns != nil && !f.Owns(t)) || t.Status.ChangeFeed == nil && meta.FindStatusCondition(t.Status.Conditions, identityv1alpha1.ConditionChangeFeed) == nil {
		return
	}
	patch := t.DeepCopy()
	patch.Status.ChangeFeed = nil
	meta.RemoveStatusCondition(&patch.Status.Conditions, identityv1alpha1.ConditionChangeFeed)
	if err := f.Client.Status().Patch(ctx, patch, client.MergeFromWithOptions(t, client.MergeFromWithOptimisticLock{})); err != nil {
		ctrl.LoggerFrom(ctx).V(1).Info("clearing the change feed's status; retrying", "tenant", t.Name, "error", err)
	}
}

// forgetGone drops the feeds of deleted EntraTenants (their objects wait for the tenant).
func (f *Feeds) forgetGone(present map[string]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, feed := range f.feeds {
		if !present[name] && !feed.polling {
			delete(f.feeds, name)
		}
	}
}

// persistStatus writes the feed's condition and watermark to the tenant's status when the
// condition changed, or the watermark moved persistEvery past the one written. The patch is
// optimistic, so it never overwrites a newer status (the tenant reconciler writes Ready to the
// same list of conditions); on a conflict it is computed again from the cache.
func (f *Feeds) persistStatus(ctx context.Context, t *identityv1alpha1.EntraTenant, feed *tenantFeed) {
	if f.Owns != nil && !f.Owns(t) {
		return
	}
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		latest := &identityv1alpha1.EntraTenant{}
		if err := f.Client.Get(ctx, client.ObjectKeyFromObject(t), latest); err != nil {
			return err
		}
		return f.patchStatus(ctx, latest, feed)
	})
	if client.IgnoreNotFound(err) != nil {
		ctrl.LoggerFrom(ctx).Error(err, "writing the change feed's status", "tenant", t.Name)
	}
}

// patchStatus is one attempt of persistStatus against t, the tenant as last read.
func (f *Feeds) patchStatus(ctx context.Context, t *identityv1alpha1.EntraTenant, feed *tenantFeed) error {
	f.mu.Lock()
	health, watermark, persisted := feed.health, feed.watermark, feed.persisted
	f.mu.Unlock()
	patch := t.DeepCopy()
	conditions.Set(&patch.Status.Conditions, t.Generation, identityv1alpha1.ConditionChangeFeed, health.status, health.reason, health.message)
	conditionChanged := !equalConditions(t.Status.Conditions, patch.Status.Conditions)
	if !conditionChanged && t.Status.ChangeFeed != nil && !persisted.IsZero() && watermark.Sub(persisted) < persistEvery {
		return nil
	}
	patch.Status.ChangeFeed = &identityv1alpha1.ChangeFeedStatus{Watermark: &metav1.Time{Time: watermark.UTC().Truncate(time.Second)}}
	if err := f.Client.Status().Patch(ctx, patch, client.MergeFromWithOptions(t, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	f.mu.Lock()
	feed.persisted = watermark
	f.mu.Unlock()
	return nil
}

// equalConditions compares condition lists by type, status, reason and message.
func equalConditions(a, b []metav1.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range a {
		o := meta.FindStatusCondition(b, c.Type)
		if o == nil || o.Status != c.Status || o.Reason != c.Reason || o.Message != c.Message || o.ObservedGeneration != c.ObservedGeneration {
			return false
		}
	}
	return true
}

// limiter is the feed's reports limiter, set up on first use.
func (f *Feeds) limiter() *reportsLimiter {
	f.reportsInit.Do(func() { f.reports.share, f.reports.now = f.ReportsShare, f.Now })
	return &f.reports
}

func (f *Feeds) tick() time.Duration {
	if f.Tick > 0 {
		return f.Tick
	}
	return time.Second
}

func (f *Feeds) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
