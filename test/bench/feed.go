package bench

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/testharness"
)

// The change-feed benchmark (`make bench FEED=1`, docs/benchmarks.md "Change feed"): the same
// N users as the main benchmark, measured in both modes on one manager, one after the other:
//
//  1. onboard with the feed off;
//  2. feed off: the steady state for two resync periods (after one of settling), then an
//     admin changes 1 % of the mobiles out of band and each one's correction is timed;
//  3. the EntraTenant's spec.changeFeed is enabled (pollInterval and sweepPeriod at their
//     defaults unless set); once ChangeFeed=True and one resync period has moved every object
//     to the sweep schedule, the steady state for FeedWindow, then the same drift again.
//
// Calls are the emulator's counts. Steady states are reported per hour: feed off both at the
// run's short --resync-period and scaled to the default 30 minutes (lists per user per
// period × users × 2 an hour); feed on as measured, at the real poll interval and sweep
// period.

// feedOverlap is how far each of the feed's polls reaches back before the previous one
// (controllers.feedOverlap).
const feedOverlap = 10 * time.Minute

// FeedConfig is one change-feed benchmark run.
type FeedConfig struct {
	N               int
	Mix             Mix
	Latency, Jitter time.Duration
	// ResyncPeriod is the manager's --resync-period (short, so the feed-off steady state can
	// be watched for two periods).
	ResyncPeriod time.Duration
	// PollInterval and SweepPeriod are spec.changeFeed's; zero keeps the API defaults (1m, 24h).
	PollInterval, SweepPeriod time.Duration
	// AuditLag is the emulator's -audit-lag (Entra: 2 minutes at the 95th percentile).
	AuditLag time.Duration
	// FeedWindow is how long the feed-on steady state is watched.
	FeedWindow time.Duration
	// DriftPercent of the users get their mobile changed out of band in each mode.
	DriftPercent float64
	Concurrency  int
	ReadyTimeout time.Duration
	WorkDir      string
	Logf         func(format string, args ...any)
}

func (c *FeedConfig) defaults() {
	c.Concurrency = cmp.Or(c.Concurrency, 16)
	c.ResyncPeriod = cmp.Or(c.ResyncPeriod, time.Minute)
	c.PollInterval = cmp.Or(c.PollInterval, identityv1alpha1.DefaultChangeFeedPollInterval)
	c.SweepPeriod = cmp.Or(c.SweepPeriod, identityv1alpha1.DefaultChangeFeedSweepPeriod)
	c.FeedWindow = cmp.Or(c.FeedWindow, 10*time.Minute)
	c.ReadyTimeout = cmp.Or(c.ReadyTimeout, time.Hour)
	if c.DriftPercent == 0 {
		c.DriftPercent = 1
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// FeedResult is what one run measured.
type FeedResult struct {
	Config            FeedConfig
	Machine           string
	Started, Finished time.Time
	Objects           int
	AllReady          time.Duration
	Off, On           feedMode
	FeedHealthyAfter  time.Duration // from enabling the feed until ChangeFeed=True
}

// feedMode is one mode's steady state and drift.
type feedMode struct {
	Window time.Duration
	Calls  callCounts
	Drift  driftTimes
}

// callCounts are the Graph calls of a window, by kind.
type callCounts struct {
	Lists, AuditReads, Writes, OtherReads, Throttled int
}

func (c callCounts) total() int { return c.Lists + c.AuditReads + c.Writes + c.OtherReads }

// driftTimes are the per-user correction times of one drift phase.
type driftTimes struct {
	Users       int
	Uncorrected int
	Times       []time.Duration // sorted
	Calls       callCounts
}

// RunFeed runs the change-feed benchmark.
func RunFeed(ctx context.Context, cfg FeedConfig) (*FeedResult, error) {
	cfg.defaults()
	res := &FeedResult{Config: cfg, Started: time.Now(), Machine: describeMachine()}
	w := newWorkload(cfg.N, cfg.Mix, namespace, tenantName)
	res.Objects = len(w.objects)
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	unlimited := int32(100000) // the drift corrections are number changes: measure them, not the change budget
	tenant := &testharness.Tenant{Name: tenantName, Namespace: namespace, InEmulator: true, MaxDestructiveWritesPerHour: &unlimited,
		TenantID: "0bec0000-0000-4000-8000-000000000001", ClientID: "0bec0000-0000-4000-8000-000000000002",
		ClientSecret: fmt.Sprintf("bench-%d", rand.Int64())}
	seed := w.seed(tenant.TenantID, tenant.ClientID, tenant.ClientSecret)
	seed.Apps[0].Permissions = append(seed.Apps[0].Permissions, graphemu.PermAuditLogReadAll)
	seedFile := filepath.Join(cfg.WorkDir, "seed.json")
	if err := writeJSON(seedFile, seed); err != nil {
		return nil, err
	}
	cfg.Logf("bench: starting control plane, Graph emulator (audit lag %s) and manager (work dir %s)", cfg.AuditLag, cfg.WorkDir)
	h, err := testharness.Start(ctx, testharness.Options{
		WorkDir:  cfg.WorkDir,
		SeedFile: seedFile,
		EmulatorArgs: []string{"-quiet", "-latency=" + cfg.Latency.String(), "-jitter=" + cfg.Jitter.String(),
			"-throttle-scale=1", "-audit-lag=" + cfg.AuditLag.String()},
		ManagerArgs:  []string{fmt.Sprintf("--max-concurrent-reconciles=%d", cfg.Concurrency)},
		ResyncPeriod: cfg.ResyncPeriod,
		StartTimeout: 5 * time.Minute,
		Logf:         cfg.Logf,
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = h.Stop() }()
	if err := h.CreateTenant(ctx, tenant); err != nil {
		return nil, err
	}
	k8s, fast, scheme, err := benchClient(h)
	if err != nil {
		return nil, err
	}
	trCtx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tr, err := startTracker(trCtx, fast, scheme, namespace)
	if err != nil {
		return nil, err
	}
	b := &feedBench{cfg: cfg, h: h, k8s: k8s, tr: tr, tenantID: tenant.TenantID, users: w.users}

	cfg.Logf("bench: creating %d PhoneAuthMethods for %d users", len(w.objects), cfg.N)
	start := time.Now()
	if err := w.create(ctx, k8s, 32); err != nil {
		return nil, err
	}
	if err := tr.waitReady(ctx, len(w.objects), cfg.ReadyTimeout, h.ManagerRunning, cfg.Logf); err != nil {
		return nil, err
	}
	res.AllReady = time.Since(start)
	cfg.Logf("bench: all %d Ready in %s", len(w.objects), res.AllReady.Round(time.Second))

	// Feed off. Settling for a resync period (plus its 10 % jitter) drains the reads that fell
	// due while the workers waited on the write budget.
	settle := cfg.ResyncPeriod * 12 / 10
	if res.Off, err = b.mode(ctx, "feed off", settle, 2*cfg.ResyncPeriod, 2*cfg.ResyncPeriod+30*time.Second, 0); err != nil {
		return nil, err
	}

	// Feed on.
	enabled := time.Now()
	if err := b.enableFeed(ctx); err != nil {
		return nil, err
	}
	res.FeedHealthyAfter = time.Since(enabled)
	cfg.Logf("bench: ChangeFeed=True after %s", res.FeedHealthyAfter.Round(time.Second))
	// Feed on. Settling moves every object to the sweep schedule (its last read on the resync
	// period comes within 1.1 periods) and lets the feed's overlap (10 minutes) pass the last
	// burst of changes (onboarding, the drift): until then each poll re-reads those entries,
	// E/999 extra pages per poll, the cost of surviving late entries, not the steady state's.
	settle = max(cfg.ResyncPeriod*12/10, feedOverlap+cfg.PollInterval+30*time.Second)
	target := cfg.AuditLag + cfg.PollInterval + 30*time.Second
	if res.On, err = b.mode(ctx, "feed on", settle, cfg.FeedWindow, 2*target, 1); err != nil {
		return nil, err
	}
	res.Finished = time.Now()
	return res, writeJSON(filepath.Join(cfg.WorkDir, "feed-result.json"), res.summary())
}

// benchClient is a client of the harness's API server without a client-side rate limit (the
// API server is local), with its config and scheme.
func benchClient(h *testharness.Harness) (client.Client, *rest.Config, *runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	fast := rest.CopyConfig(h.Config)
	fast.QPS, fast.Burst = -1, 0
	c, err := client.New(fast, client.Options{Scheme: scheme})
	return c, fast, scheme, err
}

// feedBench holds what both modes share.
type feedBench struct {
	cfg      FeedConfig
	h        *testharness.Harness
	k8s      client.Client
	tr       *tracker
	tenantID string
	users    []user
	// drifted counts the drift phases, so that each picks other users.
	drifted int
}

// mode settles, watches the steady state for window, then times a drift, giving up after
// deadline.
func (b *feedBench) mode(ctx context.Context, name string, settle, window, deadline time.Duration, phase int) (feedMode, error) {
	var m feedMode
	b.tr.quietFor(ctx, 5*time.Second, 2*time.Minute)
	b.cfg.Logf("bench: %s: settling for %s", name, settle)
	if err := sleep(ctx, settle); err != nil {
		return m, err
	}
	b.cfg.Logf("bench: %s: steady state for %s", name, window)
	before, err := b.h.EmulatorStats(ctx)
	if err != nil {
		return m, err
	}
	began := time.Now()
	if err := sleep(ctx, window); err != nil {
		return m, err
	}
	after, err := b.h.EmulatorStats(ctx)
	if err != nil {
		return m, err
	}
	m.Window, m.Calls = time.Since(began), countCalls(after, before)
	b.cfg.Logf("bench: %s: %+v in %s", name, m.Calls, m.Window.Round(time.Second))
	m.Drift, err = b.drift(ctx, name, deadline, phase)
	return m, err
}

// drift changes the mobile of DriftPercent of the users out of band (the emulator's admin API:
// an administrator in the portal, recorded in the audit log as such) and times, per user,
// until Graph holds the declared number again. Phase picks a different slice of users.
func (b *feedBench) drift(ctx context.Context, name string, deadline time.Duration, phase int) (driftTimes, error) {
	var d driftTimes
	every := max(1, int(100/b.cfg.DriftPercent))
	var chosen []user
	for i := every/3 + phase*every/2; i < len(b.users); i += every {
		chosen = append(chosen, b.users[i])
	}
	if len(chosen) == 0 && len(b.users) > 0 {
		chosen = []user{b.users[(len(b.users)/2+phase)%len(b.users)]} // a small run still drifts one user
	}
	d.Users = len(chosen)
	before, err := b.h.EmulatorStats(ctx)
	if err != nil {
		return d, err
	}
	b.cfg.Logf("bench: %s: changing the mobile of %d users out of band", name, len(chosen))
	changedAt := map[string]time.Time{}
	for _, u := range chosen {
		if err := b.h.SetPhoneMethod(ctx, b.tenantID, u.id, "mobile", u.driftNumber()); err != nil {
			return d, err
		}
		changedAt[u.id] = time.Now()
	}
	pending := chosen
	end := time.Now().Add(deadline)
	for len(pending) > 0 && time.Now().Before(end) {
		if err := sleep(ctx, time.Second); err != nil {
			return d, err
		}
		var mu sync.Mutex
		var still []user
		var firstErr error
		var wg sync.WaitGroup
		for _, u := range pending {
			wg.Go(func() {
				ok, err := b.corrected(ctx, u)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					firstErr = err
				case ok:
					d.Times = append(d.Times, time.Since(changedAt[u.id]))
				default:
					still = append(still, u)
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return d, firstErr
		}
		pending = still
	}
	d.Uncorrected = len(pending)
	slices.Sort(d.Times)
	after, err := b.h.EmulatorStats(ctx)
	if err != nil {
		return d, err
	}
	d.Calls = countCalls(after, before)
	b.cfg.Logf("bench: %s: %d of %d corrected, p95 %s", name, len(d.Times), d.Users, percentile(d.Times, 95).Round(time.Second))
	return d, nil
}

// corrected reads the user's mobile out of band (uncounted) and compares it as phoneop does.
func (b *feedBench) corrected(ctx context.Context, u user) (bool, error) {
	methods, err := b.h.PhoneMethods(ctx, b.tenantID, u.id)
	if err != nil {
		return false, err
	}
	for _, m := range methods {
		if m.PhoneType == "mobile" && phone.Equal(m.PhoneNumber, u.number(identityv1alpha1.PhoneTypeMobile)) {
			return true, nil
		}
	}
	return false, nil
}

// enableFeed turns the EntraTenant's change feed on and waits for ChangeFeed=True.
func (b *feedBench) enableFeed(ctx context.Context) error {
	b.cfg.Logf("bench: enabling the change feed (poll %s, sweep %s)", b.cfg.PollInterval, b.cfg.SweepPeriod)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var et identityv1alpha1.EntraTenant
		if err := b.k8s.Get(ctx, client.ObjectKey{Name: tenantName}, &et); err != nil {
			return err
		}
		et.Spec.ChangeFeed = &identityv1alpha1.ChangeFeed{Enabled: true,
			PollInterval: &metav1.Duration{Duration: b.cfg.PollInterval}, SweepPeriod: &metav1.Duration{Duration: b.cfg.SweepPeriod}}
		return b.k8s.Update(ctx, &et)
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var et identityv1alpha1.EntraTenant
		if err := b.k8s.Get(ctx, client.ObjectKey{Name: tenantName}, &et); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(et.Status.Conditions, identityv1alpha1.ConditionChangeFeed); c != nil && c.Status == metav1.ConditionTrue {
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the change feed did not become healthy within 5 minutes")
}

// countCalls is the Graph calls between two readings of the emulator's cumulative counts.
func countCalls(after, before testharness.Stats) callCounts {
	type key struct {
		method, route string
		status        int
		fault         string
	}
	prior := map[key]int{}
	for _, s := range before {
		prior[key{s.Method, s.Route, s.Status, s.Fault}] += s.Count
	}
	var c callCounts
	for _, s := range after {
		n := s.Count - prior[key{s.Method, s.Route, s.Status, s.Fault}]
		if n == 0 || !testharness.IsGraphRoute(s.Route) {
			continue
		}
		if s.Status == http.StatusTooManyRequests {
			c.Throttled += n
		}
		switch {
		case s.Method != http.MethodGet:
			c.Writes += n
		case s.Route == graphemu.RoutePhoneList:
			c.Lists += n
		case s.Route == graphemu.RouteDirectoryAudits:
			c.AuditReads += n
		default:
			c.OtherReads += n
		}
	}
	return c
}

// percentile is the p-th percentile (nearest rank) of sorted times; 0 for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[min(max(rank, 1), len(sorted))-1]
}
