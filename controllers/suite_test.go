package controllers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/changefeed"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/shard"
	"github.com/phoneop/phoneop/internal/smsretirement"
)

// The package shares one real control plane (kube-apiserver + etcd), one Graph emulator over
// HTTPS and one running manager, set up with the same Setup and ManagerOptions as main.go: tests
// exercise the reconcilers exactly as deployed. Each fixture is its own emulated tenant, and
// counts Graph calls for that tenant only.
var (
	k8s        client.Client
	apiReader  client.Reader // uncached: sees what the shard's cache leaves out
	restConfig *rest.Config  // the control plane's, for what no client reads (kube-apiserver's /metrics)
	// managerCache is the manager's informer cache itself: the client reads Secrets around it.
	managerCache cache.Cache
	emu          *graphemu.Emulator
	emuServer    *httptest.Server
	reconciler   *PhoneAuthMethodReconciler
	feeds        *changefeed.Feeds
)

// suiteClock is the manager's clock: the real time, moved forward by a test that must run after
// a date (the SMS sign-in retirement) without waiting for it.
var suiteClock offsetClock

// suiteSMSSignInRetirement is when SMS sign-in retires in the emulated tenants' cloud (Custom):
// far enough away that every test runs before it unless it moves suiteClock past it.
var suiteSMSSignInRetirement = time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)

// offsetClock is the real time plus an offset.
type offsetClock struct{ offset atomic.Int64 }

// Now is the real time plus the offset.
func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// moveTo moves the clock so that it reads at now (and runs on from there) until the test ends;
// call it after newFixture, so that the test's objects are deleted before the clock goes back.
func (c *offsetClock) moveTo(t *testing.T, at time.Time) {
	c.offset.Store(int64(time.Until(at)))
	t.Cleanup(func() { c.offset.Store(0) })
}

// suiteShard is the suite manager's shard: the default one, as an unsharded install runs, so
// that its selector (objects without the shard label) is in force in every test.
var suiteShard = shard.Config{Count: 1}

const (
	credentialsNamespace = "phoneop-system"
	testClientSecret     = "emulator-client-secret"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(false), zap.Level(zapLevel())))
	code := m.Run()
	suite.stop()
	os.Exit(code)
}

// envSuite is started by the first test that needs it (requireSuite), so that the tests that
// need no control plane (`go test -short`, make unit) run in milliseconds without one.
type envSuite struct {
	once    sync.Once
	err     error
	cleanup []func()
}

var suite envSuite

// stop undoes what startSuite started, last first.
func (s *envSuite) stop() {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

// requireSuite starts the control plane, the emulator and the manager once per process, and
// fails the test if they cannot start.
func requireSuite(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the test control plane (kube-apiserver + etcd); runs in make test, not make unit")
	}
	suite.once.Do(func() { suite.err = startSuite() })
	if suite.err != nil {
		t.Fatalf("the envtest suite did not start (run the tests with `make test`, which builds the control plane): %v", suite.err)
	}
}

func startSuite() error {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the test control plane: %w", err)
	}
	suite.cleanup = append(suite.cleanup, func() { _ = env.Stop() })
	cfg.WrapTransport = apiWrites.wrap // counts the manager's writes by namespace (apiwrites_test.go)
	restConfig = cfg

	emu = graphemu.New(graphemu.Options{Seed: 1, DisableThrottling: true, AuditLag: time.Second})
	emuServer = httptest.NewUnstartedServer(emu)
	emuServer.Config.ErrorLog = log.New(io.Discard, "", 0) // connections cut by fault injection
	emuServer.StartTLS()
	suite.cleanup = append(suite.cleanup, emuServer.Close)

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ManagerOptions(ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}}, suiteShard))
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	k8s, apiReader, managerCache = mgr.GetClient(), mgr.GetAPIReader(), mgr.GetCache()
	ctx, cancel := context.WithCancel(context.Background())
	suite.cleanup = append(suite.cleanup, cancel)
	// Before Setup, which keeps the status key in a Secret of the manager's namespace (here the
	// credentials namespace).
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: credentialsNamespace}}); err != nil {
		return fmt.Errorf("creating the credentials namespace: %w", err)
	}
	registered, err := Setup(ctx, mgr, Options{
		CredentialsNamespace: credentialsNamespace,
		ResyncPeriod:         time.Hour, // drift is forced with the annotation, so counts stay exact
		// Small, so that many fixtures' objects converge in parallel without stretching the run.
		MaxConcurrentReconciles: 4,
		GraphLimits:             graph.Limits{MaxRetries: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxWait: 2 * time.Second},
		HTTPClient:              emuServer.Client(),
		Throttles:               graph.NewThrottles(nil),
		CredentialRecheck:       time.Minute,
		ObserverTTL:             10 * time.Second, // as in production: min(10 s, resync/4)
		Shard:                   suiteShard,
		AllowCustomCloud:        true, // the emulated tenants are cloud Custom
		SMSSignInRetirement:     smsretirement.Schedule{identityv1alpha1.CloudCustom: suiteSMSSignInRetirement},
		Now:                     suiteClock.Now,
		// Short enough that tests forcing two re-reads of one object wait little, long enough
		// to see the second one deferred (TestAForcedReadIsHonouredOncePerIntervalPerObject); a
		// small burst, so that TestOneNamespaceCannotForceMoreThanItsRate needs few objects.
		ForcedReadInterval: 5 * time.Second,
		ForcedReadBurst:    4,
	})
	if err != nil {
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	reconciler, feeds = registered.PhoneAuthMethods, registered.Feeds
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped: %v\n", err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("the manager's cache did not sync")
	}
	return nil
}

func zapLevel() zapcore.Level {
	if os.Getenv("PHONEOP_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel // a green run stays quiet
}
