// Package bench measures phoneop against the limits it cannot move: it starts the real
// pieces (test control plane, Graph emulator binary, manager binary) through
// internal/testharness, has a null controller (nullcontroller.go: one status patch per
// object, nothing else) onboard N PhoneAuthMethods for the machine floor, deletes them, has
// phoneop onboard the same objects, and measures time against both floors (Graph's and the
// machine's), the API server's CPU and writes per object for both, Graph calls, the steady
// state, drift correction and the manager's footprint. RunAdoption does the same for a
// brownfield tenant through `kubectl phoneop export`; RunFidelity runs against the emulator's
// production quirks (Graph as observed: reformatted numbers, read lag, unsaved conflicts,
// masked users) and counts Graph writes per needed action. cmd/bench is the command line;
// `make bench` runs it.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/testharness"
)

// Config is one benchmark run.
type Config struct {
	// N is the number of users; each gets a mobile, Mix decides the rest.
	N   int
	Mix Mix
	// Latency and Jitter: every Graph request waits Latency + uniform [0, Jitter), so the
	// default 20 ms + [0, 20 ms) is 30 ms ± 10 ms.
	Latency, Jitter time.Duration
	// ResyncPeriod is the manager's --resync-period, shortened so that the steady state can
	// be watched for two periods.
	ResyncPeriod time.Duration
	// Concurrency is the manager's --max-concurrent-reconciles (0: the manager's default, 16).
	Concurrency int
	// ManagerArgs are further manager flags, e.g. "--graph-requests-per-second=50".
	ManagerArgs []string
	// ManagerEnv are environment variables for the manager process, e.g. "GOMEMLIMIT=150MiB".
	ManagerEnv []string
	// DriftPercent of the users get their mobile changed out of band (at least one user).
	DriftPercent float64
	// ThrottleScale is the emulator's -throttle-scale: it multiplies Graph's documented limits
	// (bucket sizes and refill), and the floor with them. 0 means 1, the documented limits.
	ThrottleScale float64
	// SecondTenantObjects, when > 0, adds a second tenant with that many users (a mobile
	// each) whose objects are created right after the first tenant's, while it onboards: the
	// time until they are all Ready shows whether one tenant's backlog holds another back.
	SecondTenantObjects int
	// SteadyPeriods is how many resync periods the steady state is watched for, after one
	// period of settling (0 means 2).
	SteadyPeriods int
	// SkipSteadyState and SkipDrift shorten a smoke run.
	SkipSteadyState, SkipDrift bool
	// SkipBaseline skips the null controller's run, and with it the machine floor: the
	// headline is then time ÷ Graph floor alone. For trying things out, not for a report.
	SkipBaseline bool
	// ReadyTimeout bounds the wait for every object to be Ready.
	ReadyTimeout time.Duration
	// WorkDir keeps the harness's logs, the seed and result.json; "" uses a temporary one.
	WorkDir string
	// Logf receives progress lines.
	Logf func(format string, args ...any)
	// EmulatorRequestLog logs every Graph request in the emulator's log (route template,
	// status, fault, request-id; never a user or a number), to match the manager's log by
	// request-id.
	EmulatorRequestLog bool
	// Fidelity, when enabled, makes the run a fidelity run (RunFidelity): Graph as observed
	// in production instead of as documented.
	Fidelity Fidelity
	// HeapProfile is the manager's pprof address: heap profiles go to the work dir (heap.go).
	HeapProfile string
	// Adoption configures a brownfield run (RunAdoption).
	Adoption Adoption
}

// quiet is the emulator's -quiet unless the request log is wanted.
func (c *Config) quiet() []string {
	if c.EmulatorRequestLog {
		return nil
	}
	return []string{"-quiet"}
}

func (c *Config) defaults() {
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
	if c.ResyncPeriod == 0 {
		c.ResyncPeriod = time.Minute
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = time.Hour
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.ThrottleScale <= 0 {
		c.ThrottleScale = 1
	}
	if c.SteadyPeriods <= 0 {
		c.SteadyPeriods = 2
	}
}

const (
	namespace  = "bench"
	tenantName = "bench"
)

// Run runs the benchmark and returns its measurements.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	res := &Result{Config: cfg, Started: time.Now(), Machine: describeMachine()}
	w := newWorkload(cfg.N, cfg.Mix, namespace, tenantName)
	res.countObjects(w)

	workDir := cfg.WorkDir
	if workDir == "" {
		d, err := os.MkdirTemp("", "phoneop-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		workDir = d
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, err
	}
	// The users go in through a seed file: one admin request per user would take minutes.
	// The change budget at its maximum: drift at scale would otherwise measure the safety cap
	// (50 destructive writes an hour by default), not throughput.
	unlimited := int32(100000)
	tenant := &testharness.Tenant{Name: tenantName, Namespace: namespace, InEmulator: true,
		TenantID: "0bec0000-0000-4000-8000-000000000001", ClientID: "0bec0000-0000-4000-8000-000000000002",
		ClientSecret: fmt.Sprintf("bench-%d", rand.Int64()), MaxDestructiveWritesPerHour: &unlimited}
	seedFile := filepath.Join(workDir, "seed.json")
	if err := writeJSON(seedFile, w.seed(tenant.TenantID, tenant.ClientID, tenant.ClientSecret)); err != nil {
		return nil, err
	}

	cfg.Logf("bench: starting control plane and Graph emulator (work dir %s)", workDir)
	h, err := testharness.Start(ctx, testharness.Options{
		WorkDir:  workDir,
		SeedFile: seedFile,
		EmulatorArgs: append(cfg.quiet(), "-latency="+cfg.Latency.String(), "-jitter="+cfg.Jitter.String(),
			fmt.Sprintf("-throttle-scale=%g", cfg.ThrottleScale)), // 1: the documented limits
		ManagerEnv:   cfg.ManagerEnv,
		ManagerArgs:  append([]string{fmt.Sprintf("--max-concurrent-reconciles=%d", cfg.Concurrency)}, cfg.ManagerArgs...),
		ResyncPeriod: cfg.ResyncPeriod,
		StartTimeout: 5 * time.Minute,
		// The manager starts after the null controller's run (Config.SkipBaseline).
		NoManager: true,
		Logf:      cfg.Logf,
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = h.Stop() }()
	k8s, fast, scheme, err := benchClient(h)
	if err != nil {
		return nil, err
	}
	// The tenant's Secret, namespace and EntraTenant exist for both runs; only the manager
	// waits for the tenant to be Ready (below).
	if err := createTenantObjects(ctx, h, k8s, tenant); err != nil {
		return nil, err
	}
	createObjects := func(ctx context.Context) error { return w.create(ctx, k8s, 32) }

	// Phase 0: the machine floor, the null controller on the same objects.
	if !cfg.SkipBaseline {
		b, err := runBaseline(ctx, baselineRun{kubeconfig: h.Kubeconfig, apiServer: fast, scheme: scheme, client: k8s,
			namespaces: []string{namespace}, objects: len(w.objects), create: createObjects, workDir: workDir,
			concurrency: cfg.Concurrency, timeout: cfg.ReadyTimeout, logf: cfg.Logf})
		if err != nil {
			return nil, err
		}
		res.Baseline = &b
	}

	cfg.Logf("bench: starting the manager")
	mgr, pid, err := startManager(ctx, h)
	if err != nil {
		return nil, err
	}
	if err := h.CreateTenant(ctx, tenant); err != nil { // the objects exist: waits until it is Ready
		return nil, err
	}

	// The watch stops before the control plane does (defers run last-in first-out).
	trCtx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tr, err := startTracker(trCtx, fast, scheme, namespace)
	if err != nil {
		return nil, err
	}

	var second *secondTenant
	if cfg.SecondTenantObjects > 0 {
		if second, err = prepareSecondTenant(trCtx, h, fast, scheme, cfg.SecondTenantObjects); err != nil {
			return nil, err
		}
	}

	// Phase 1: create everything, wait until everything is Ready.
	before, err := snapshot(ctx, h, mgr)
	if err != nil {
		return nil, err
	}
	cfg.Logf("bench: creating %d PhoneAuthMethods for %d users", len(w.objects), cfg.N)
	var secondDone <-chan secondTenantResult
	startSecond := func() {
		if second != nil {
			secondDone = second.onboard(ctx, k8s, cfg.ReadyTimeout, mgr.Running, cfg.Logf)
		}
	}
	ob, err := onboard(ctx, onboardSteps{apiServer: fast, objects: len(w.objects), create: createObjects, afterCreate: startSecond,
		tracker: tr, cpu: newCPUMeter(), alive: mgr.Running, timeout: cfg.ReadyTimeout, logf: cfg.Logf})
	if err != nil {
		return nil, err
	}
	res.Onboarding = ob
	res.CreateObjects, res.AllReady, res.ConvergeCPU = ob.created, ob.allReady, ob.cpu
	res.ReadyTimes = tr.readyTimes(ob.start)
	if secondDone != nil {
		r := <-secondDone
		if r.err != nil {
			return nil, fmt.Errorf("second tenant: %w", r.err)
		}
		res.SecondTenant = &r
	}
	cfg.captureHeap(ctx, workDir, "ready")
	after, err := snapshot(ctx, h, mgr)
	if err != nil {
		return nil, err
	}
	res.Converge = after.minus(before)
	work := Work{Users: cfg.N, Writes: w.writes(), Reads: 2 * cfg.N, // a lookup and a list per user
		Latency: cfg.Latency + cfg.Jitter/2, ThrottleScale: cfg.ThrottleScale, Concurrency: cfg.Concurrency}
	res.Floor = NewFloor(work, res.CreateObjects)
	res.Bound = LowerBound(work)
	cfg.Logf("bench: all %d Ready in %s (Graph floor %s, machine floor %s, time ÷ max(floors) %.2f)", len(w.objects),
		res.AllReady.Round(time.Second), res.Floor.Max().Round(time.Second), res.MachineFloor().Round(time.Second), res.ratio())

	// Phase 2: nothing changes for SteadyPeriods resync periods.
	if !cfg.SkipSteadyState {
		tr.quietFor(ctx, 5*time.Second, 2*time.Minute)
		// Let one period pass first: resyncs that came due while the workers waited on the
		// write budget are still queued when the last object turns Ready, and their catch-up
		// is the onboarding's cost, not the steady state's (at N=10,000 it added 0.3 GETs per
		// user per period to a window started at once).
		cfg.Logf("bench: settling for one resync period (%s)", cfg.ResyncPeriod)
		if err := sleep(ctx, cfg.ResyncPeriod); err != nil {
			return nil, err
		}
		cfg.Logf("bench: steady state for %d × %s", cfg.SteadyPeriods, cfg.ResyncPeriod)
		before, err := snapshot(ctx, h, mgr)
		if err != nil {
			return nil, err
		}
		tr.resetWrites()
		began := time.Now()
		if err := sleep(ctx, time.Duration(cfg.SteadyPeriods)*cfg.ResyncPeriod); err != nil {
			return nil, err
		}
		after, err := snapshot(ctx, h, mgr)
		if err != nil {
			return nil, err
		}
		res.Steady = after.minus(before)
		res.Steady.duration = time.Since(began)
		res.SteadyObjectWrites = tr.writeCount()
	}

	// Phase 3: an admin changes 1 % of the users' mobiles in the portal.
	if !cfg.SkipDrift {
		d, err := measureDrift(ctx, h, mgr, tr, w.users, tenant.TenantID, cfg)
		if err != nil {
			return nil, err
		}
		res.DriftUsers, res.DriftUncorrected, res.DriftTime = d.users, d.uncorrected, d.time
		res.Drift, res.DriftObjectWrites = d.counts, d.objectWrites
	}

	cfg.captureHeap(ctx, workDir, "end")
	if res.Proc, err = readProc(pid); err != nil {
		return nil, err
	}
	res.Finished = time.Now()
	if err := writeJSON(filepath.Join(workDir, "result.json"), res.summary()); err != nil {
		return nil, err
	}
	return res, nil
}

// phaseCounts is what one phase cost: Graph calls as the emulator counted them, and the
// manager's own counters.
type phaseCounts struct {
	graph    graphCalls
	manager  managerMetrics
	duration time.Duration
}

// counters is a point-in-time reading of the cumulative counters.
type counters struct {
	stats   testharness.Stats
	metrics managerMetrics
}

// scraper is the manager whose /metrics a snapshot reads: a *testharness.Manager, or the
// harness's default manager (*testharness.Harness).
type scraper interface {
	Scrape(ctx context.Context) (string, error)
}

func snapshot(ctx context.Context, h *testharness.Harness, mgr scraper) (counters, error) {
	stats, err := h.EmulatorStats(ctx)
	if err != nil {
		return counters{}, err
	}
	text, err := mgr.Scrape(ctx)
	if err != nil {
		return counters{}, err
	}
	m, err := parseMetrics(text)
	return counters{stats: stats, metrics: m}, err
}

// minus is the phase between two readings. Emulator stats are subtracted entry by entry
// rather than reset, so nothing is lost between reset and the next reading.
func (c counters) minus(before counters) phaseCounts {
	return phaseCounts{graph: summarize(statsMinus(c.stats, before.stats)), manager: c.metrics.minus(before.metrics)}
}

// driftOutcome is what the drift phase measured.
type driftOutcome struct {
	users, uncorrected int
	time               time.Duration
	counts             phaseCounts
	objectWrites       int
}

// measureDrift changes the mobile of DriftPercent of the candidates out of band (the admin
// API, which Graph's stats do not count) and waits until phoneop has put every one back.
func measureDrift(ctx context.Context, h *testharness.Harness, mgr scraper, tr *tracker, candidates []user, tenantID string, cfg Config) (driftOutcome, error) {
	var out driftOutcome
	every := max(1, int(100/max(cfg.DriftPercent, 0.01)))
	var drifted []user
	for i := every / 2; i < len(candidates); i += every {
		drifted = append(drifted, candidates[i])
	}
	if len(drifted) == 0 && len(candidates) > 0 {
		drifted = candidates[len(candidates)/2 : len(candidates)/2+1] // a small run still drifts one user
	}
	tr.quietFor(ctx, 2*time.Second, time.Minute)
	before, err := snapshot(ctx, h, mgr)
	if err != nil {
		return out, err
	}
	tr.resetWrites()
	cfg.Logf("bench: drift: changing the mobile of %d users out of band", len(drifted))
	start := time.Now()
	for _, u := range drifted {
		if err := h.SetPhoneMethod(ctx, tenantID, u.id, "mobile", u.driftNumber()); err != nil {
			return out, err
		}
	}
	// Poll (out of band, uncounted) until every drifted mobile is back; give up after two
	// periods so that a miss is reported rather than waited on forever. Graph may store the
	// number in another form than phoneop wrote (-number-format), so numbers are compared as
	// phoneop compares them.
	pending := drifted
	deadline := start.Add(2*cfg.ResyncPeriod + 30*time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		if err := sleep(ctx, time.Second); err != nil {
			return out, err
		}
		var still []user
		for _, u := range pending {
			methods, err := h.PhoneMethods(ctx, tenantID, u.id)
			if err != nil {
				return out, err
			}
			ok := false
			for _, m := range methods {
				ok = ok || (m.PhoneType == "mobile" && phone.Equal(m.PhoneNumber, u.number(identityv1alpha1.PhoneTypeMobile)))
			}
			if !ok {
				still = append(still, u)
			}
		}
		pending = still
	}
	out.users = len(drifted)
	out.uncorrected = len(pending)
	out.time = time.Since(start)
	after, err := snapshot(ctx, h, mgr)
	if err != nil {
		return out, err
	}
	out.counts = after.minus(before)
	out.counts.duration = out.time
	out.objectWrites = tr.writeCount()
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// createTenantObjects creates the tenant's Secret, namespace (if any) and EntraTenant, those
// that do not exist yet, without waiting for the tenant to be Ready.
func createTenantObjects(ctx context.Context, h *testharness.Harness, c client.Client, t *testharness.Tenant) error {
	for _, obj := range h.TenantObjects(t) {
		if err := client.IgnoreAlreadyExists(c.Create(ctx, obj)); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// startManager starts phoneop's manager and returns it with its process id (for its CPU and
// RSS).
func startManager(ctx context.Context, h *testharness.Harness) (*testharness.Manager, int, error) {
	mgr, err := h.StartManager(ctx, testharness.ManagerOptions{})
	if err != nil {
		return nil, 0, err
	}
	pid, err := findChild(testharness.ManagerBinary)
	if err != nil {
		return nil, 0, err
	}
	return mgr, pid, nil
}
