package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

// Adoption is a brownfield run (RunAdoption): a tenant whose users already have phones is
// exported with `kubectl phoneop export` and the export applied (ObserveOnly), first with the
// null controller, then with phoneop.
type Adoption struct {
	// Namespaces the users are spread over (by the export's users file); each is applied by
	// its own kubectl, as each team's pipeline would.
	Namespaces int
	// ExportArgs are further flags of `kubectl phoneop export`, e.g. the one that makes it
	// use the EntraTenant's Secret (the manager's credentials) rather than azidentity's chain.
	ExportArgs []string
}

// adoptionWorkload is the seeded tenant: every user a mobile (SMS sign-in ready), Mix the
// rest, German numbers stored in the fidelity runs' forms in turn (as written, no space,
// trunk 0, grouped), so that the export meets every form Graph is seen to store.
type adoptionWorkload struct {
	users  []user
	phones int
	seeded map[string][]graphemu.PhoneMethod // user id → phones
}

func newAdoptionWorkload(n int, mix Mix) adoptionWorkload {
	w := adoptionWorkload{seeded: map[string][]graphemu.PhoneMethod{}}
	for i := range n {
		u := newUser(i)
		u.german = true
		w.users = append(w.users, u)
		for _, t := range mix.types(i) {
			m := graphemu.PhoneMethod{PhoneType: string(t), PhoneNumber: storedForm(u.number(t), i)}
			if t == identityv1alpha1.PhoneTypeMobile {
				m.SMSSignInState = "ready"
			}
			w.seeded[u.id] = append(w.seeded[u.id], m)
			w.phones++
		}
	}
	return w
}

// storedForm is the number as Graph stored it for user i: as written for one user in four,
// else one of otherForm's three forms.
func storedForm(number string, i int) string {
	if i%4 == 3 {
		return number
	}
	return otherForm(number, i%4)
}

func (w adoptionWorkload) seed(tenantID, clientID, secret string) graphemu.Seed {
	s := graphemu.Seed{
		Tenants: []graphemu.Tenant{{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}}},
		Apps: []graphemu.SeedApp{{TenantID: tenantID, ClientID: clientID, ClientSecret: secret,
			Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll, graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}}},
	}
	for _, u := range w.users {
		s.Users = append(s.Users, graphemu.SeedUser{User: graphemu.User{TenantID: tenantID, ID: u.id, UserPrincipalName: u.upn}, PhoneMethods: w.seeded[u.id]})
	}
	return s
}

func adoptionNamespace(i, namespaces int) string { return fmt.Sprintf("adopt-%d", i%namespaces) }

// usersFile is the export's --users-file: each user and the namespace of its objects.
func (w adoptionWorkload) usersFile(namespaces int) string {
	var b strings.Builder
	b.WriteString("# userPrincipalName namespace\n")
	for _, u := range w.users {
		fmt.Fprintf(&b, "%s %s\n", u.upn, adoptionNamespace(u.index, namespaces))
	}
	return b.String()
}

// AdoptionResult is what a brownfield run measured.
type AdoptionResult struct {
	Config   Config
	Machine  string
	Started  time.Time
	Finished time.Time
	Phones   int // seeded
	Objects  int // exported
	// Export is the plugin's wall time and its Graph calls.
	Export      time.Duration
	ExportGraph graphCalls
	// ApplySecrets is the time to apply the export's number Secrets (once, before both runs).
	ApplySecrets time.Duration
	Baseline     *onboarding // the null controller applying the objects
	Onboarding   onboarding  // phoneop: from the first apply until all Ready
	Floor        Floor       // Graph's floor for reading every user once
	Graph        graphCalls  // phoneop's Graph calls until all Ready
	Reasons      map[string]int
	Proc         procStats
}

// RunAdoption runs the brownfield benchmark.
func RunAdoption(ctx context.Context, cfg Config) (*AdoptionResult, error) {
	cfg.defaults()
	if cfg.Adoption.Namespaces <= 0 {
		cfg.Adoption.Namespaces = 4
	}
	res := &AdoptionResult{Config: cfg, Started: time.Now(), Machine: describeMachine()}
	workDir, cleanup, err := cfg.workDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	w := newAdoptionWorkload(cfg.N, cfg.Mix)
	res.Phones = w.phones
	unlimited := int32(100000)
	tenant := &testharness.Tenant{Name: tenantName, InEmulator: true,
		TenantID: "0bec0000-0000-4000-8000-000000000021", ClientID: "0bec0000-0000-4000-8000-000000000022",
		ClientSecret: fmt.Sprintf("bench-%d", rand.Int64()), MaxDestructiveWritesPerHour: &unlimited}
	seedFile := filepath.Join(workDir, "seed.json")
	if err := writeJSON(seedFile, w.seed(tenant.TenantID, tenant.ClientID, tenant.ClientSecret)); err != nil {
		return nil, err
	}
	plugin := filepath.Join(workDir, "kubectl-phoneop")
	if err := buildPlugin(ctx, plugin); err != nil {
		return nil, err
	}
	cfg.Logf("bench: adoption: starting control plane and Graph emulator (work dir %s)", workDir)
	h, err := testharness.Start(ctx, testharness.Options{WorkDir: workDir, SeedFile: seedFile,
		EmulatorArgs: append(cfg.quiet(), "-latency="+cfg.Latency.String(), "-jitter="+cfg.Jitter.String(),
			fmt.Sprintf("-throttle-scale=%g", cfg.ThrottleScale)),
		ManagerEnv:   cfg.ManagerEnv,
		ManagerArgs:  append([]string{fmt.Sprintf("--max-concurrent-reconciles=%d", cfg.Concurrency)}, cfg.ManagerArgs...),
		ResyncPeriod: cfg.ResyncPeriod, StartTimeout: 5 * time.Minute, NoManager: true, Logf: cfg.Logf})
	if err != nil {
		return nil, err
	}
	defer func() { _ = h.Stop() }()
	k8s, fast, scheme, err := benchClient(h)
	if err != nil {
		return nil, err
	}
	namespaces, err := createAdoptionTenant(ctx, h, k8s, tenant, cfg.Adoption.Namespaces)
	if err != nil {
		return nil, err
	}

	// 1. Export: reads only.
	out, secrets := filepath.Join(workDir, "export"), filepath.Join(workDir, "export-secrets")
	usersFile := filepath.Join(workDir, "users.txt")
	if err := os.WriteFile(usersFile, []byte(w.usersFile(cfg.Adoption.Namespaces)), 0o644); err != nil {
		return nil, err
	}
	statsBefore, err := h.EmulatorStats(ctx)
	if err != nil {
		return nil, err
	}
	cfg.Logf("bench: adoption: kubectl phoneop export of %d users", cfg.N)
	began := time.Now()
	args := append([]string{"export", "--tenant", tenant.Name, "--users-file", usersFile, "--output-dir", out,
		"--secrets-dir", secrets, "--no-progress"}, cfg.Adoption.ExportArgs...)
	summary, err := runPlugin(ctx, h, plugin, args...)
	if err != nil {
		return nil, err
	}
	res.Export = time.Since(began)
	statsAfter, err := h.EmulatorStats(ctx)
	if err != nil {
		return nil, err
	}
	res.ExportGraph = summarize(statsMinus(statsAfter, statsBefore))
	cfg.Logf("bench: adoption: exported in %s: %s", res.Export.Round(100*time.Millisecond), firstLine(summary))
	if res.Objects, err = exportedObjects(filepath.Join(out, "export-summary.yaml")); err != nil {
		return nil, err
	}
	if res.Objects != res.Phones {
		return nil, fmt.Errorf("the export holds %d PhoneAuthMethods for %d seeded phones (export-summary.yaml lists what it left out)", res.Objects, res.Phones)
	}

	// 2. The numbers' Secrets, once for both runs (neither controller's work).
	began = time.Now()
	if err := applyPerNamespace(ctx, h, secrets, namespaces); err != nil {
		return nil, err
	}
	res.ApplySecrets = time.Since(began)
	applyObjects := func(ctx context.Context) error { return applyPerNamespace(ctx, h, out, namespaces) }

	// 3. The machine floor: the null controller, the same apply.
	if !cfg.SkipBaseline {
		b, err := runBaseline(ctx, baselineRun{kubeconfig: h.Kubeconfig, apiServer: fast, scheme: scheme, client: k8s,
			namespaces: namespaces, objects: res.Objects, create: applyObjects, workDir: workDir,
			concurrency: cfg.Concurrency, timeout: cfg.ReadyTimeout, logf: cfg.Logf})
		if err != nil {
			return nil, err
		}
		res.Baseline = &b
	}

	// 4. phoneop: the same apply, until every object is Ready.
	cfg.Logf("bench: adoption: starting the manager")
	mgr, pid, err := startManager(ctx, h)
	if err != nil {
		return nil, err
	}
	if err := h.CreateTenant(ctx, tenant); err != nil {
		return nil, err
	}
	trCtx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tr, err := startTracker(trCtx, fast, scheme, namespaces...)
	if err != nil {
		return nil, err
	}
	if statsBefore, err = h.EmulatorStats(ctx); err != nil {
		return nil, err
	}
	cfg.Logf("bench: adoption: applying %d PhoneAuthMethods (ObserveOnly) in %d namespaces", res.Objects, len(namespaces))
	if res.Onboarding, err = onboard(ctx, onboardSteps{apiServer: fast, objects: res.Objects, create: applyObjects,
		tracker: tr, cpu: newCPUMeter(), alive: mgr.Running, timeout: cfg.ReadyTimeout, logf: cfg.Logf}); err != nil {
		return nil, err
	}
	if statsAfter, err = h.EmulatorStats(ctx); err != nil {
		return nil, err
	}
	res.Graph = summarize(statsMinus(statsAfter, statsBefore))
	res.Floor = NewFloor(Work{Users: cfg.N, Reads: 2 * cfg.N, // a lookup and a list per user, no write
		Latency: cfg.Latency + cfg.Jitter/2, ThrottleScale: cfg.ThrottleScale}, res.Onboarding.created)
	if res.Reasons, err = readyReasons(ctx, tr); err != nil {
		return nil, err
	}
	cfg.Logf("bench: adoption: all %d Ready in %s (Graph floor %s, machine floor %s)", res.Objects, res.Onboarding.allReady.Round(100*time.Millisecond),
		res.Floor.Max().Round(100*time.Millisecond), res.machineFloor().Round(100*time.Millisecond))
	if res.Proc, err = readProc(pid); err != nil {
		return nil, err
	}
	res.Finished = time.Now()
	return res, writeJSON(filepath.Join(workDir, "result.json"), res.summary())
}

// workDir is Config.WorkDir, created, or a temporary directory that cleanup removes.
func (c *Config) workDir() (dir string, cleanup func(), err error) {
	if c.WorkDir == "" {
		d, err := os.MkdirTemp("", "phoneop-bench-")
		if err != nil {
			return "", nil, err
		}
		return d, func() { _ = os.RemoveAll(d) }, nil
	}
	return c.WorkDir, func() {}, os.MkdirAll(c.WorkDir, 0o755)
}

// createAdoptionTenant creates the tenant's Secret and EntraTenant and its namespaces
// (labelled so that the tenant allows them); the manager is not running yet, so nothing
// waits for the tenant to be Ready.
func createAdoptionTenant(ctx context.Context, h *testharness.Harness, c client.Client, t *testharness.Tenant, n int) ([]string, error) {
	if err := createTenantObjects(ctx, h, c, t); err != nil {
		return nil, err
	}
	var namespaces []string
	for i := range n {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adoptionNamespace(i, n), Labels: map[string]string{testharness.TenantLabel: t.Name}}}
		if err := client.IgnoreAlreadyExists(c.Create(ctx, ns)); err != nil {
			return nil, err
		}
		namespaces = append(namespaces, ns.Name)
	}
	return namespaces, nil
}

// buildPlugin builds cmd/kubectl-phoneop from this repository, as a user installs it.
func buildPlugin(ctx context.Context, path string) error {
	root, err := repositoryRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/kubectl-phoneop")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/kubectl-phoneop: %v\n%s", err, out)
	}
	return nil
}

// repositoryRoot walks up from the working directory to the directory holding cmd/kubectl-phoneop.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "cmd", "kubectl-phoneop")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no cmd/kubectl-phoneop above the working directory: run the benchmark inside the repository")
		}
		dir = parent
	}
}

// runPlugin runs the plugin as a person would: the harness's kubeconfig, the emulator's
// certificate trusted through SSL_CERT_FILE.
func runPlugin(ctx context.Context, h *testharness.Harness, plugin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, plugin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+h.Kubeconfig, "SSL_CERT_FILE="+h.EmulatorCert)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kubectl phoneop %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// applyPerNamespace applies dir/<namespace> (a kustomization the export wrote) with
// server-side apply, one kubectl per namespace in parallel.
func applyPerNamespace(ctx context.Context, h *testharness.Harness, dir string, namespaces []string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(namespaces))
	for _, ns := range namespaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := h.Kubectl(ctx, "apply", "--server-side", "-k", filepath.Join(dir, ns)).CombinedOutput(); err != nil {
				errs <- fmt.Errorf("kubectl apply --server-side -k %s: %v\n%s", filepath.Join(dir, ns), err, lastLines(string(out), 5))
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

var summaryObjects = regexp.MustCompile(`(?m)^objects: (\d+)$`)

// exportedObjects reads the object count from the export's summary.
func exportedObjects(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	m := summaryObjects.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("%s has no objects: line", path)
	}
	return strconv.Atoi(string(m[1]))
}

// readyReasons counts the objects' Ready reasons as the watch last saw them.
func readyReasons(ctx context.Context, tr *tracker) (map[string]int, error) {
	objs, err := tr.objects(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for i := range objs {
		reason := "no Ready condition"
		for _, c := range objs[i].Status.Conditions {
			if c.Type == identityv1alpha1.ConditionReady {
				reason = string(c.Status) + " " + c.Reason
			}
		}
		out[reason]++
	}
	return out, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
