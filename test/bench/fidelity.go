package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

// Fidelity runs the benchmark against Graph as it is observed in production rather than as
// documented (docs/emulator.md, "Production quirks"): numbers stored in another form, reads
// that lag writes, creates answered 409 phoneNumberNotUnique without saving, lists in random
// order with extra OData properties, and masked numbers for some users. Users start in the
// states of fidelityCase, so that a needed action is defined per object.
type Fidelity struct {
	// NumberFormats are the forms Graph stores the numbers written through it in
	// (-number-format). The objects are created in one wave per format and the emulator is
	// switched between waves (a stored form is fixed when the number is written), so one run
	// can cover several. Empty: fidelity mode is off.
	NumberFormats []graphemu.NumberFormat
	// ReadLag is -read-lag: after a write, reads of that user answer the state before it.
	ReadLag time.Duration
	// UnsavedRate is -rate-not-unique-unsaved: this fraction of mobile and alternate creates
	// (and number updates) is answered 409 phoneNumberNotUnique and not saved.
	UnsavedRate float64
	// MaskedPercent of the users are masked (-mask-users), in a tenant of their own so that
	// the emulator's per-tenant counts show every write to them.
	MaskedPercent int
	// Reread forces one more pass of every object (the reconcile-requested-at annotation)
	// once the read lag of the last write has passed: every phone is read again in the form
	// Graph stored it, and every object left PhoneNumberNotUnique gets its later pass now
	// instead of after the manager's slow retry.
	Reread bool
	// SlowRetry is the manager's retry interval for PhoneNumberNotUnique (10 minutes). With
	// WaitSlowRetry the run waits until every object left PhoneNumberNotUnique has had it.
	SlowRetry     time.Duration
	WaitSlowRetry bool
}

// Enabled reports whether the run is a fidelity run.
func (f Fidelity) Enabled() bool { return len(f.NumberFormats) > 0 }

func (f *Fidelity) defaults() {
	if f.SlowRetry == 0 {
		f.SlowRetry = 10 * time.Minute
	}
}

// emulatorArgs are the quirk flags of the run (the first wave's number format).
func (f Fidelity) emulatorArgs(w fidelityWorkload) []string {
	args := []string{"-number-format=" + string(f.NumberFormats[0]), "-read-lag=" + f.ReadLag.String(),
		fmt.Sprintf("-rate-not-unique-unsaved=%g", f.UnsavedRate), "-shuffle-lists", "-extra-properties"}
	if len(w.masked) > 0 {
		args = append(args, w.maskUsersFlag())
	}
	return args
}

// FidelityResult is what a fidelity run measured.
type FidelityResult struct {
	Config   Config
	Machine  string
	Started  time.Time
	Finished time.Time
	workload fidelityWorkload

	// Converged is the time from the first create until every object was final (settled).
	Converged time.Duration
	// afterConverge is the objects' verdict then; final after the last onboarding phase
	// (re-read, slow retry) and before drift.
	afterConverge, final verdict
	// phases are the onboarding phases' Graph counts, in order.
	phases []fidelityPhase
	// onboarding sums the phases: every call from the first create until before drift.
	onboarding phaseOps
	// maskedChanged counts masked users' methods that differ from their seed at the end.
	maskedChanged int
	// rereadNotUnique and rereadMobileRequired: objects waiting before the forced pass.
	rereadNotUnique, rereadMobileRequired int
	// slowRetried: objects PhoneNumberNotUnique when the slow-retry wait began.
	slowRetried int
	// allowedRetries is one create per object PhoneNumberNotUnique at the start of a forced
	// pass or a slow retry: the injected conflicts' one retry per later pass.
	allowedRetries int
	// retryInside: the phases before the first allowed retry lasted longer than the manager's
	// slow retry, so some objects may have had theirs already (not counted as allowed).
	retryInside bool
	drift       *driftOutcome
	driftOps    phaseOps
	Proc        procStats
}

// fidelityPhase is one phase's name, duration and counts.
type fidelityPhase struct {
	name     string
	duration time.Duration
	ops      phaseOps
}

// RunFidelity runs a fidelity benchmark (cfg.Fidelity enabled).
func RunFidelity(ctx context.Context, cfg Config) (*FidelityResult, error) {
	cfg.defaults()
	f := &cfg.Fidelity
	f.defaults()
	if !f.Enabled() {
		return nil, fmt.Errorf("fidelity: no number format")
	}
	res := &FidelityResult{Config: cfg, Started: time.Now(), Machine: describeMachine()}
	w := newFidelityWorkload(cfg.N, cfg.Mix, f.MaskedPercent, len(f.NumberFormats))
	res.workload = w

	workDir := cfg.WorkDir
	if workDir == "" {
		d, err := os.MkdirTemp("", "phoneop-fidelity-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		workDir = d
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, err
	}
	secret := fmt.Sprintf("bench-%d", rand.Int64())
	mainIDs := &tenantIDs{tenantID: "0bec0000-0000-4000-8000-000000000001", clientID: "0bec0000-0000-4000-8000-000000000002", secret: secret}
	maskedIDs := &tenantIDs{tenantID: "0bec0000-0000-4000-8000-000000000011", clientID: "0bec0000-0000-4000-8000-000000000012", secret: secret + "-m"}
	seedFile := filepath.Join(workDir, "seed.json")
	if err := writeJSON(seedFile, w.seed(mainIDs, maskedIDs)); err != nil {
		return nil, err
	}

	cfg.Logf("fidelity: starting control plane, Graph emulator (%v) and manager (work dir %s)", f.emulatorArgs(w)[:5], workDir)
	h, err := testharness.Start(ctx, testharness.Options{
		WorkDir:  workDir,
		SeedFile: seedFile,
		EmulatorArgs: append(append(cfg.quiet(), "-latency="+cfg.Latency.String(), "-jitter="+cfg.Jitter.String(),
			"-throttle-scale=1"), f.emulatorArgs(w)...),
		ManagerEnv: cfg.ManagerEnv,
		// The run forces a re-read of every object at once (reread), which the per-namespace
		// forced-read rail would otherwise spread over minutes: it checks Graph's quirks, not
		// that rail.
		ManagerArgs: append([]string{fmt.Sprintf("--max-concurrent-reconciles=%d", cfg.Concurrency),
			fmt.Sprintf("--forced-read-burst=%d", len(w.objects))}, cfg.ManagerArgs...),
		ResyncPeriod: cfg.ResyncPeriod,
		StartTimeout: 5 * time.Minute,
		Logf:         cfg.Logf,
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = h.Stop() }()
	pid, err := findChild(testharness.ManagerBinary)
	if err != nil {
		return nil, err
	}
	mainTenant := &testharness.Tenant{Name: tenantName, Namespace: namespace, InEmulator: true,
		TenantID: mainIDs.tenantID, ClientID: mainIDs.clientID, ClientSecret: mainIDs.secret}
	maskedTenant := &testharness.Tenant{Name: maskedTenantName, Namespace: maskedNamespace, InEmulator: true,
		TenantID: maskedIDs.tenantID, ClientID: maskedIDs.clientID, ClientSecret: maskedIDs.secret}
	for _, t := range []*testharness.Tenant{mainTenant, maskedTenant} {
		if err := h.CreateTenant(ctx, t); err != nil {
			return nil, err
		}
	}
	k8s, _, scheme, err := benchClient(h)
	if err != nil {
		return nil, err
	}
	if err := raiseChangeBudget(ctx, k8s, tenantName); err != nil {
		return nil, err
	}
	trCtx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tr, err := startTracker(trCtx, h.Config, scheme, namespace, maskedNamespace)
	if err != nil {
		return nil, err
	}
	r := &fidelityRun{cfg: cfg, h: h, k8s: k8s, tr: tr, w: w, mainID: mainIDs.tenantID, maskedID: maskedIDs.tenantID, res: res}
	quiet := f.ReadLag + 2*time.Second // so that the next phase reads what Graph stored

	// Phase 1: create the objects wave by wave, each wave's numbers stored in its format.
	start := time.Now()
	if err := r.phase("converge", func() error {
		for wave, format := range f.NumberFormats {
			if wave > 0 {
				if err := r.setNumberFormat(ctx, format); err != nil {
					return err
				}
			}
			var objs []fidelityObject
			for _, o := range w.objects {
				if o.wave == wave {
					objs = append(objs, o)
				}
			}
			cfg.Logf("fidelity: wave %d (number format %q): creating %d PhoneAuthMethods", wave+1, format, len(objs))
			if err := createObjects(ctx, k8s, objs, 32); err != nil {
				return err
			}
			last := wave == len(f.NumberFormats)-1
			settle := 500 * time.Millisecond
			if last {
				settle = quiet
			}
			if _, err := r.settle(ctx, "", settle, cfg.ReadyTimeout, func(v verdict) bool { return v.finalFor(wave) }); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	res.Converged = time.Since(start)
	res.afterConverge = r.last
	cfg.Logf("fidelity: every object final after %s: %s", res.Converged.Round(100*time.Millisecond), describe(r.last.byReason))

	// Phase 2: one more pass of every object, once the lag has passed.
	if f.Reread {
		if err := r.judgeNow(ctx); err != nil {
			return nil, err
		}
		res.rereadNotUnique, res.rereadMobileRequired = r.last.notUnique, r.last.mobileRequired
		res.allowedRetries += r.last.notUnique
		// The next phase either waits long (steady state, slow retry) or waits for quiet
		// itself (drift): a short calm suffices.
		if err := r.phase("forced re-read", func() error { return r.reread(ctx, 2*time.Second) }); err != nil {
			return nil, err
		}
	}
	// The objects' slow retries count from their last pass: the first create, or the forced one.
	retriesFrom := start
	if f.Reread {
		retriesFrom = time.Now()
	}

	// Phase 3: nothing changes for two resync periods (after one to settle).
	if !cfg.SkipSteadyState {
		if err := r.phase("steady state", func() error {
			cfg.Logf("fidelity: steady state: one resync period to settle, two to measure (%s each)", cfg.ResyncPeriod)
			return sleep(ctx, 3*cfg.ResyncPeriod)
		}); err != nil {
			return nil, err
		}
	}

	// Phase 4: the objects left PhoneNumberNotUnique get their slow retry.
	if f.WaitSlowRetry {
		if err := r.judgeNow(ctx); err != nil {
			return nil, err
		}
		res.slowRetried = r.last.notUnique
		res.allowedRetries += r.last.notUnique
		res.retryInside = time.Since(retriesFrom) > f.SlowRetry
		if err := r.phase("slow retry", func() error { return r.waitSlowRetry(ctx, quiet) }); err != nil {
			return nil, err
		}
	}
	objs, err := tr.objects(ctx)
	if err != nil {
		return nil, err
	}
	res.final = judge(w, objs, "")
	for _, p := range res.phases {
		res.onboarding.main = res.onboarding.main.plus(p.ops.main)
		res.onboarding.masked = res.onboarding.masked.plus(p.ops.masked)
	}
	if res.maskedChanged, err = r.maskedChanged(ctx); err != nil {
		return nil, err
	}

	// Phase 5: an admin changes 1 % of the Ready users' mobiles in the portal.
	if !cfg.SkipDrift {
		var candidates []user
		for _, u := range w.users {
			if res.final.ready[namespace+"/"+fmt.Sprintf("u%06d-mobile", u.index)] {
				candidates = append(candidates, u)
			}
		}
		before, err := readTenants(ctx, h, r.mainID, r.maskedID)
		if err != nil {
			return nil, err
		}
		d, err := measureDrift(ctx, h, h, tr, candidates, mainIDs.tenantID, cfg)
		if err != nil {
			return nil, err
		}
		after, err := readTenants(ctx, h, r.mainID, r.maskedID)
		if err != nil {
			return nil, err
		}
		res.drift, res.driftOps = &d, after.minus(before)
	}
	if res.Proc, err = readProc(pid); err != nil {
		return nil, err
	}
	res.Finished = time.Now()
	if err := writeJSON(filepath.Join(workDir, "result.json"), res.summary()); err != nil {
		return nil, err
	}
	return res, nil
}

// fidelityRun is a running fidelity benchmark.
type fidelityRun struct {
	cfg              Config
	h                *testharness.Harness
	k8s              client.Client
	tr               *tracker
	w                fidelityWorkload
	mainID, maskedID string
	res              *FidelityResult
	last             verdict // the latest judgement of the objects
}

// phase runs fn and records the Graph calls it cost in each tenant.
func (r *fidelityRun) phase(name string, fn func() error) error {
	ctx := context.Background()
	before, err := readTenants(ctx, r.h, r.mainID, r.maskedID)
	if err != nil {
		return err
	}
	began := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	after, err := readTenants(ctx, r.h, r.mainID, r.maskedID)
	if err != nil {
		return err
	}
	r.res.phases = append(r.res.phases, fidelityPhase{name: name, duration: time.Since(began), ops: after.minus(before)})
	return nil
}

// judgeNow judges the objects as the watch sees them now.
func (r *fidelityRun) judgeNow(ctx context.Context) error {
	objs, err := r.tr.objects(ctx)
	if err != nil {
		return err
	}
	r.last = judge(r.w, objs, "")
	return nil
}

// settle polls (every 250 ms, from the watch's cache) until done holds for the objects'
// verdict and neither an object nor Graph's write count has changed for quiet, or timeout
// passes. handled, when not "", is a reconcile request every object must have handled.
func (r *fidelityRun) settle(ctx context.Context, handled string, quiet, timeout time.Duration, done func(verdict) bool) (verdict, error) {
	deadline := time.Now().Add(timeout)
	lastWrites, writesAt := -1, time.Now()
	nextLog := time.Now().Add(30 * time.Second)
	for {
		objs, err := r.tr.objects(ctx)
		if err != nil {
			return verdict{}, err
		}
		r.last = judge(r.w, objs, handled)
		stats, err := r.h.EmulatorStats(ctx)
		if err != nil {
			return verdict{}, err
		}
		if n := opsOf(stats).allWrites(); n != lastWrites {
			lastWrites, writesAt = n, time.Now()
		}
		calm := time.Since(writesAt) >= quiet && time.Since(r.tr.lastWrite()) >= quiet
		if done(r.last) && calm {
			return r.last, nil
		}
		if err := r.h.ManagerRunning(); err != nil {
			return r.last, err
		}
		if time.Now().After(deadline) {
			return r.last, fmt.Errorf("objects not settled after %s: not final: %s", timeout, describe(r.last.notFinal))
		}
		if time.Now().After(nextLog) {
			r.cfg.Logf("fidelity: waiting: %s; not final: %s", describe(r.last.byReason), describe(r.last.notFinal))
			nextLog = time.Now().Add(30 * time.Second)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return r.last, err
		}
	}
}

// finalFor reports whether the objects of waves up to wave are all final (later waves' do
// not exist yet).
func (v verdict) finalFor(wave int) bool {
	for j := 0; j <= wave; j++ {
		if v.waveNotFinal[j] > 0 {
			return false
		}
	}
	return true
}

// raiseChangeBudget lifts the tenant's cap on destructive writes (spec.changeBudget, 50 number
// changes and deletes per hour by default): the workload's 10 % of mobiles seeded with another
// number need one number change each, and drift needs more; the cap would hold them back for
// an hour, which is not what this benchmark measures. A merge patch, so that an API server
// whose CRD has no such field simply drops it.
func raiseChangeBudget(ctx context.Context, c client.Client, name string) error {
	patch := []byte(`{"spec":{"changeBudget":{"maxDestructiveWritesPerHour":100000}}}`)
	et := &identityv1alpha1.EntraTenant{}
	et.Name = name
	return c.Patch(ctx, et, client.RawPatch(types.MergePatchType, patch))
}

func findCondition(p *identityv1alpha1.PhoneAuthMethod, t string) *metav1.Condition {
	return meta.FindStatusCondition(p.Status.Conditions, t)
}

// setNumberFormat switches the emulator's stored number form (the other faults unchanged).
func (r *fidelityRun) setNumberFormat(ctx context.Context, format graphemu.NumberFormat) error {
	var f graphemu.Faults
	if err := r.h.EmulatorAdmin(ctx, http.MethodGet, "faults", nil, &f); err != nil {
		return err
	}
	f.NumberFormat = format
	return r.h.EmulatorAdmin(ctx, http.MethodPut, "faults", f, nil)
}

// reread annotates every object with a new reconcile request and waits until every object
// has handled it and is final again.
func (r *fidelityRun) reread(ctx context.Context, quiet time.Duration) error {
	value := fmt.Sprintf("fidelity-%d", time.Now().UnixNano())
	r.cfg.Logf("fidelity: forcing one more pass of every object (%d PhoneNumberNotUnique, %d MobileRequired)", r.last.notUnique, r.last.mobileRequired)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		identityv1alpha1.AnnotationReconcileRequestedAt: value}}})
	if err := forEach(ctx, r.w.objects, 32, func(o fidelityObject) error {
		obj := &identityv1alpha1.PhoneAuthMethod{}
		obj.Namespace, obj.Name = o.obj.Namespace, o.obj.Name
		return r.k8s.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
	}); err != nil {
		return err
	}
	_, err := r.settle(ctx, value, quiet, r.cfg.ReadyTimeout, func(v verdict) bool { return v.final })
	return err
}

// waitSlowRetry waits until every object PhoneNumberNotUnique now has passed its slow retry
// (SlowRetry after it stalled, plus a minute for a retry queued behind others) and everything
// is final again.
func (r *fidelityRun) waitSlowRetry(ctx context.Context, quiet time.Duration) error {
	objs, err := r.tr.objects(ctx)
	if err != nil {
		return err
	}
	var due time.Time
	waiting := 0
	for i := range objs {
		s := stateOf(&objs[i])
		if s.ready || s.reason != identityv1alpha1.ReasonPhoneNumberNotUnique {
			continue
		}
		waiting++
		if c := findCondition(&objs[i], identityv1alpha1.ConditionStalled); c != nil {
			if t := c.LastTransitionTime.Add(r.cfg.Fidelity.SlowRetry + time.Minute); t.After(due) {
				due = t
			}
		}
	}
	if waiting == 0 {
		r.cfg.Logf("fidelity: no object waits for a slow retry")
		return nil
	}
	r.cfg.Logf("fidelity: %d objects PhoneNumberNotUnique; waiting for their slow retry (until %s)", waiting, due.Format(time.TimeOnly))
	if err := sleep(ctx, time.Until(due)); err != nil {
		return err
	}
	_, err = r.settle(ctx, "", quiet, r.cfg.ReadyTimeout, func(v verdict) bool { return v.final })
	return err
}

// maskedChanged counts the masked users' methods that are no longer exactly as seeded (read
// out of band: the stored strings, which only a Graph write can change).
func (r *fidelityRun) maskedChanged(ctx context.Context) (int, error) {
	changed := 0
	for _, u := range r.w.masked {
		methods, err := r.h.PhoneMethods(ctx, r.maskedID, u.id)
		if err != nil {
			return 0, err
		}
		got := map[string]string{}
		for _, m := range methods {
			got[m.PhoneType] = m.PhoneNumber
		}
		seeded := r.w.seeded[u.id]
		for _, m := range seeded {
			if got[m.PhoneType] != m.PhoneNumber {
				changed++
			}
		}
		if len(methods) != len(seeded) {
			changed++
		}
	}
	return changed, nil
}

// createObjects creates the objects with parallel workers.
func createObjects(ctx context.Context, c client.Client, objs []fidelityObject, workers int) error {
	return forEach(ctx, objs, workers, func(o fidelityObject) error {
		if err := c.Create(ctx, o.obj.DeepCopy()); err != nil {
			// The reason only: an admission message may quote the number.
			return fmt.Errorf("creating PhoneAuthMethod %s: %s", o.obj.Name, apierrors.ReasonForError(err))
		}
		return nil
	})
}
