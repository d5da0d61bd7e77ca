package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/controllers"
	"github.com/phoneop/phoneop/internal/shard"
)

// The null controller is the benchmark's machine floor: the least any controller of
// PhoneAuthMethods must make the API server do for a new object, which is one status patch
// marking it Ready. It runs on controller-runtime with phoneop's own cache options
// (controllers.ManagerOptions: the same transform, the same shard selector, Secrets
// uncached) and phoneop's concurrency, and does nothing else: no Graph, no finalizer, no
// Event. Its time to all Ready on the same control plane and the same objects is the floor
// the machine sets, whatever Graph allows.
//
// It runs as a process of its own, as the manager does, so that the benchmark's CPU and the
// API server's are measured the same way in both runs: the benchmark starts its own
// executable again with nullControllerEnv set (cmd/bench and the package's test binary both
// call RunNullControllerIfAsked first).

const (
	// nullControllerEnv holds the null controller's --max-concurrent-reconciles; set, it
	// makes the process the null controller.
	nullControllerEnv = "PHONEOP_BENCH_NULL_CONTROLLER"
	// nullControllerSynced is the line the null controller prints once its cache is synced.
	nullControllerSynced = "null controller: cache synced"
	// NullReason is the Ready reason the null controller sets.
	NullReason = "NullController"
)

// RunNullControllerIfAsked runs the null controller and exits when this process was started
// as one (startNullController); otherwise it returns at once.
func RunNullControllerIfAsked() {
	v, ok := os.LookupEnv(nullControllerEnv)
	if !ok {
		return
	}
	concurrency, err := strconv.Atoi(v)
	if err != nil || concurrency <= 0 {
		fmt.Fprintf(os.Stderr, "null controller: %s=%q is not a positive number of concurrent reconciles\n", nullControllerEnv, v)
		os.Exit(2)
	}
	// Errors only, to its log (stderr): the benchmark reads nothing else from it.
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	if err := runNullController(ctrl.SetupSignalHandler(), concurrency); err != nil {
		fmt.Fprintf(os.Stderr, "null controller: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runNullController runs until ctx ends. The rest config comes from KUBECONFIG, as the
// manager's does (ctrl.GetConfig: the same client-side rate limits).
func runNullController(ctx context.Context, concurrency int) error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, controllers.ManagerOptions(ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
	}, shard.Config{}))
	if err != nil {
		return err
	}
	err = ctrl.NewControllerManagedBy(mgr).For(&identityv1alpha1.PhoneAuthMethod{}).Named("nullcontroller").
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(&nullReconciler{Client: mgr.GetClient()})
	if err != nil {
		return err
	}
	if err := mgr.Add(announceSynced{mgr}); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// announceSynced prints nullControllerSynced once the cache holds every watched object, so
// that the benchmark starts creating objects only then, as it does for the manager.
type announceSynced struct{ mgr ctrl.Manager }

func (a announceSynced) Start(ctx context.Context) error {
	if !a.mgr.GetCache().WaitForCacheSync(ctx) {
		return ctx.Err()
	}
	fmt.Println(nullControllerSynced)
	return nil
}

// nullReconciler marks each PhoneAuthMethod Ready with one status patch, as phoneop writes its
// status (a merge patch carrying the resourceVersion read), and nothing else.
type nullReconciler struct{ client.Client }

func (r *nullReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var pam identityv1alpha1.PhoneAuthMethod
	if err := r.Get(ctx, req.NamespacedName, &pam); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if isReady(&pam) || !pam.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	before := pam.DeepCopy()
	meta.SetStatusCondition(&pam.Status.Conditions, metav1.Condition{Type: identityv1alpha1.ConditionReady,
		Status: metav1.ConditionTrue, ObservedGeneration: pam.Generation, Reason: NullReason, Message: "Marked Ready by the benchmark's null controller."})
	err := r.Status().Patch(ctx, &pam, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	if apierrors.IsConflict(err) {
		return ctrl.Result{Requeue: true}, nil // a stale cache: the next pass reads the newer object
	}
	return ctrl.Result{}, client.IgnoreNotFound(err)
}

// isReady is the benchmark's Ready: True for the object's current generation.
func isReady(p *identityv1alpha1.PhoneAuthMethod) bool {
	c := meta.FindStatusCondition(p.Status.Conditions, identityv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation
}

// nullController is a running null-controller process.
type nullController struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited; err is then set
	err    error
	log    string
}

// startNullController starts the benchmark's own executable as the null controller against
// the control plane of kubeconfig and waits until its cache is synced.
func startNullController(ctx context.Context, kubeconfig, workDir string, concurrency int, timeout time.Duration) (*nullController, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(workDir, "null-controller.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", nullControllerEnv, concurrency), "KUBECONFIG="+kubeconfig)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	n := &nullController{cmd: cmd, exited: make(chan struct{}), log: logPath}
	synced := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stdout)
		announced := false
		for s.Scan() {
			if !announced && strings.TrimSpace(s.Text()) == nullControllerSynced {
				announced = true
				close(synced)
			}
		}
		n.err = cmd.Wait() // after the pipe is drained, as exec.Cmd requires
		_ = logFile.Close()
		close(n.exited)
	}()
	select {
	case <-synced:
		return n, nil
	case <-n.exited:
		return nil, fmt.Errorf("the null controller exited before its cache synced (%v; log %s)", n.err, logPath)
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	n.stop()
	return nil, fmt.Errorf("the null controller's cache did not sync within %s (log %s)", timeout, logPath)
}

func (n *nullController) pid() int { return n.cmd.Process.Pid }

// running reports an error once the process has exited.
func (n *nullController) running() error {
	select {
	case <-n.exited:
		return fmt.Errorf("the null controller exited (%v; log %s)", n.err, n.log)
	default:
		return nil
	}
}

// stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (n *nullController) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}
