package controllers

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/emulator"
)

// The package shares one real control plane (kube-apiserver + etcd), one Graph emulator over
// HTTPS and one running manager: tests exercise the reconcilers exactly as deployed.
var (
	k8s        client.Client
	emu        *emulator.Emulator
	emuServer  *httptest.Server
	reconciler *PhoneAuthMethodReconciler
)

const (
	credentialsNamespace = "phoneop-system"
	testClientSecret     = "emulator-client-secret"
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(false), zap.Level(zapLevel())))
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the test control plane failed (run the tests with `make test`, which builds it): %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	emu = emulator.New(emulator.Options{Seed: 1, DisableThrottling: true})
	emuServer = httptest.NewUnstartedServer(emu)
	emuServer.Config.ErrorLog = log.New(io.Discard, "", 0) // connections cut by fault injection
	emuServer.StartTLS()
	defer emuServer.Close()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{DefaultTransform: StripCachedMetadata()}}) // as main.go
	if err != nil {
		fmt.Fprintf(os.Stderr, "creating the manager: %v\n", err)
		return 1
	}
	k8s = mgr.GetClient()
	connector := &Connector{
		Reader: mgr.GetAPIReader(), Namespace: credentialsNamespace, HTTPClient: emuServer.Client(),
		Limits:    graph.Limits{MaxRetries: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxWait: 2 * time.Second},
		Throttles: graph.NewThrottles(nil), RecheckAfter: time.Minute,
	}
	if err := (&EntraTenantReconciler{Client: mgr.GetClient(), Connector: connector}).SetupWithManager(mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setting up the tenant controller: %v\n", err)
		return 1
	}
	reconciler = &PhoneAuthMethodReconciler{
		Client: mgr.GetClient(), SecretReader: mgr.GetAPIReader(), Connector: connector,
		Observer: &Observer{TTL: 2 * time.Second}, Users: &UserCache{},
		Recorder:                mgr.GetEventRecorder("phoneop"),
		ResyncPeriod:            time.Hour, // drift is forced with the annotation, so counts stay exact
		MaxConcurrentReconciles: 4,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := reconciler.SetupWithManager(ctx, mgr); err != nil {
		fmt.Fprintf(os.Stderr, "setting up the PhoneAuthMethod controller: %v\n", err)
		return 1
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped: %v\n", err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		fmt.Fprintln(os.Stderr, "the manager's cache did not sync")
		return 1
	}
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: credentialsNamespace}}); err != nil {
		fmt.Fprintf(os.Stderr, "creating the credentials namespace: %v\n", err)
		return 1
	}
	return m.Run()
}

func zapLevel() zapcore.Level {
	if os.Getenv("PHONEOP_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel // a green run stays quiet
}
