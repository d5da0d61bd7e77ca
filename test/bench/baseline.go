package bench

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// onboarding is one controller's convergence of a set of new objects: from the first create
// (or apply) until every object was Ready, with what it cost the machine and the API server.
type onboarding struct {
	objects  int
	start    time.Time
	created  time.Duration // the objects all existed in the API server
	allReady time.Duration
	cpu      cpuUse      // every process of the run
	api      apiRequests // kube-apiserver's requests served, every client's
}

// apiServerCPUPerObject is kube-apiserver's CPU time per object during the onboarding.
func (o onboarding) apiServerCPUPerObject() time.Duration {
	if o.objects == 0 {
		return 0
	}
	return time.Duration(o.cpu.seconds["kube-apiserver"] / float64(o.objects) * float64(time.Second))
}

// apiWritesPerObject is the API server's mutating requests per object, the objects' own
// creates included.
func (o onboarding) apiWritesPerObject() float64 {
	if o.objects == 0 {
		return 0
	}
	return o.api.writes().total() / float64(o.objects)
}

// onboardSteps is what onboard needs: how to create the objects and how to know they are Ready.
type onboardSteps struct {
	apiServer *rest.Config // to scrape kube-apiserver's /metrics
	objects   int
	create    func(context.Context) error
	// afterCreate, if set, runs once the objects exist (the second tenant starts then).
	afterCreate func()
	tracker     *tracker
	cpu         cpuMeter
	alive       func() error
	timeout     time.Duration
	logf        func(string, ...any)
}

// onboard creates the objects and waits until every one is Ready, measuring the time, the CPU
// of every process and the API server's requests around it.
func onboard(ctx context.Context, s onboardSteps) (onboarding, error) {
	o := onboarding{objects: s.objects}
	apiBefore, err := scrapeAPIServer(ctx, s.apiServer)
	if err != nil {
		return o, err
	}
	cpuBefore := s.cpu.sample()
	o.start = time.Now()
	if err := s.create(ctx); err != nil {
		return o, err
	}
	o.created = time.Since(o.start)
	s.logf("bench: %d objects created in %s; waiting for Ready", s.objects, o.created.Round(time.Millisecond))
	if s.afterCreate != nil {
		s.afterCreate()
	}
	if err := s.tracker.waitReady(ctx, s.objects, s.timeout, s.alive, s.logf); err != nil {
		return o, err
	}
	o.allReady = time.Since(o.start)
	o.cpu = cpuBefore.until(s.cpu.sample(), o.allReady)
	apiAfter, err := scrapeAPIServer(ctx, s.apiServer)
	if err != nil {
		return o, err
	}
	o.api = apiAfter.minus(apiBefore)
	return o, nil
}

// baselineRun is what the null controller's run needs besides the objects' creation.
type baselineRun struct {
	kubeconfig  string
	apiServer   *rest.Config // no client-side rate limit
	scheme      *runtime.Scheme
	client      client.Client
	namespaces  []string
	objects     int
	create      func(context.Context) error
	workDir     string
	concurrency int
	timeout     time.Duration
	logf        func(string, ...any)
}

// runBaseline onboards the objects with the null controller (nullcontroller.go), then stops
// it and deletes them (they carry no finalizer, so at once), leaving the control plane as it
// was for phoneop's run on the same objects. Its time to all Ready is the machine floor.
func runBaseline(ctx context.Context, b baselineRun) (onboarding, error) {
	trCtx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tr, err := startTracker(trCtx, b.apiServer, b.scheme, b.namespaces...)
	if err != nil {
		return onboarding{}, err
	}
	b.logf("bench: machine floor: starting the null controller (one status patch per object, nothing else)")
	nc, err := startNullController(ctx, b.kubeconfig, b.workDir, b.concurrency, 5*time.Minute)
	if err != nil {
		return onboarding{}, err
	}
	cpu := newCPUMeter()
	cpu["null-controller"] = nc.pid()
	o, err := onboard(ctx, onboardSteps{apiServer: b.apiServer, objects: b.objects, create: b.create, tracker: tr, cpu: cpu,
		alive: nc.running, timeout: b.timeout, logf: b.logf})
	nc.stop()
	if err != nil {
		return o, fmt.Errorf("null controller: %w", err)
	}
	b.logf("bench: machine floor: all %d Ready in %s with the null controller; deleting them for phoneop's run", b.objects, o.allReady.Round(100*time.Millisecond))
	if err := deleteTracked(ctx, b.client, tr, b.timeout); err != nil {
		return o, err
	}
	return o, nil
}

// deleteTracked deletes every object the tracker sees and waits until its watch has seen
// them all go.
func deleteTracked(ctx context.Context, c client.Client, tr *tracker, timeout time.Duration) error {
	objs, err := tr.objects(ctx)
	if err != nil {
		return err
	}
	if err := deleteAll(ctx, c, objs, 32); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		left, err := tr.objects(ctx)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d PhoneAuthMethods still exist %s after their deletion", len(left), timeout)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// deleteAll deletes the objects with parallel workers, as workload.create creates them.
func deleteAll(ctx context.Context, c client.Client, objs []identityv1alpha1.PhoneAuthMethod, workers int) error {
	return forEach(ctx, objs, workers, func(obj identityv1alpha1.PhoneAuthMethod) error {
		if err := c.Delete(ctx, &obj); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting PhoneAuthMethod %s/%s: %s", obj.Namespace, obj.Name, apierrors.ReasonForError(err))
		}
		return nil
	})
}
