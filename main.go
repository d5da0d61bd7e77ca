/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command manager runs the phoneop controllers: it reconciles PhoneAuthMethod objects against
// Microsoft Graph through the EntraTenant connections a cluster admin grants.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/controllers"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/pace"
	"github.com/phoneop/phoneop/internal/shard"
	"github.com/phoneop/phoneop/internal/smsretirement"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
}

// options are the manager's command-line flags.
type options struct {
	metricsAddr          string
	secureMetrics        bool
	probeAddr            string
	pprofAddr            string
	leaderElect          bool
	resyncPeriod         time.Duration
	maxConcurrent        int
	graphRPS             float64
	graphBurst           int
	graphWPS             float64
	credentialsNamespace string
	// podNamespace is $POD_NAMESPACE: set by both installs, empty out of cluster.
	podNamespace string
	// leaderElectionNamespace is the flag as given; leaseNamespace resolves its default.
	leaderElectionNamespace string
	// watchNamespaces is --watch-namespaces as given (comma-separated); watched parses it.
	watchNamespaces string
	// allowCustomCloud is --allow-custom-cloud: EntraTenants with cloud Custom may connect.
	allowCustomCloud bool
	// shard is --shard and --shard-count (internal/shard): "" is the default shard (objects
	// without the shard label).
	shard shard.Config
	// smsSignInRetirement is --sms-sign-in-retirement: when SMS sign-in retires per cloud.
	smsSignInRetirement smsretirement.Schedule
	// forcedReadsPerMinute and forcedReadBurst meter each namespace's forced re-reads.
	forcedReadsPerMinute float64
	forcedReadBurst      int
}

// watched returns the namespaces --watch-namespaces names, trimmed, without duplicates and in
// order, or nil (every namespace) when the flag is empty.
func (o options) watched() ([]string, error) {
	var out []string
	for _, ns := range strings.Split(o.watchNamespaces, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" || slices.Contains(out, ns) {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
		out = append(out, ns)
	}
	return out, nil
}

// cacheNamespaces is what the manager's caches list and watch: nil (every namespace) without
// --watch-namespaces, otherwise the watched namespaces plus the credentials namespace, whose
// Secrets the EntraTenant controller watches. Cluster-scoped kinds (EntraTenant, Namespace)
// are cached cluster-wide either way.
func (o options) cacheNamespaces() (map[string]cache.Config, error) {
	watched, err := o.watched()
	if err != nil || len(watched) == 0 {
		return nil, err
	}
	out := map[string]cache.Config{}
	for _, ns := range append(watched, o.credentialsNamespace) {
		if ns != "" {
			out[ns] = cache.Config{}
		}
	}
	return out, nil
}

// leaseNamespace is where leader election keeps its Lease: --leader-election-namespace, else
// the pod's namespace, else the credentials namespace (out of cluster there is no pod, and
// controller-runtime's own default, the in-cluster service account namespace, fails).
func (o options) leaseNamespace() string {
	for _, ns := range []string{o.leaderElectionNamespace, o.podNamespace, o.credentialsNamespace} {
		if ns != "" {
			return ns
		}
	}
	return ""
}

// validate refuses flag values that would silently disable a safeguard: resync (drift would go
// unnoticed, and siblings would stop sharing reads) or the Graph rate limit.
func (o options) validate() error {
	switch {
	case o.resyncPeriod < time.Second:
		return fmt.Errorf("--resync-period must be at least 1s (30m is the default), got %s", o.resyncPeriod)
	case o.graphRPS <= 0 || o.graphBurst <= 0 || o.graphWPS <= 0:
		return errors.New("--graph-requests-per-second, --graph-burst and --graph-writes-per-second must be positive")
	case o.maxConcurrent <= 0:
		return errors.New("--max-concurrent-reconciles must be positive")
	case o.leaderElect && o.leaseNamespace() == "":
		return errors.New("--leader-elect needs a namespace for its Lease: set --leader-election-namespace (or --credentials-namespace, or POD_NAMESPACE)")
	}
	if err := o.shard.Validate(); err != nil {
		return err
	}
	_, err := o.watched()
	return err
}

func parseFlags() (options, zap.Options) {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "Address the metrics endpoint binds to; \"0\" disables it.")
	flag.BoolVar(&o.secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS behind Kubernetes authentication and authorization.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "", "Address to serve Go's pprof profiles on (e.g. 127.0.0.1:6060); \"\" (the default) serves none. For profiling, never expose it.")
	flag.BoolVar(&o.allowCustomCloud, "allow-custom-cloud", false, "Let EntraTenants with cloud Custom connect: they name their own token and Graph endpoints, so an EntraTenant editor could send the tenant's credential anywhere. Only for the Graph emulator and private clouds.")
	o.smsSignInRetirement = smsretirement.Default()
	flag.Var(smsretirement.Flag{Value: &o.smsSignInRetirement}, "sms-sign-in-retirement", "When Microsoft retires SMS sign-in, per cloud: a date (the public cloud's), Cloud=date pairs (Global, or Public, USGov, USGovDoD, China, Custom; others: none), or \"never\". Before it, objects with smsSignIn: Enabled carry a SmsSignInRetiring warning; from it on, phoneop makes no enable call there (docs/sms-retirement.md). The default is Microsoft's announced date, which may move.")
	flag.Float64Var(&o.forcedReadsPerMinute, "forced-reads-per-minute", pace.DefaultForcedReadsPerMinute, "Forced re-reads (the phoneop.dev/reconcile-requested-at annotation) each namespace may make per minute, so that one namespace cannot spend its tenant's Graph quota; the excess is served from phoneop's last read and read when allowed.")
	flag.IntVar(&o.forcedReadBurst, "forced-read-burst", pace.DefaultForcedReadBurst, "Forced re-reads a namespace may make at once, beyond --forced-reads-per-minute.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.DurationVar(&o.resyncPeriod, "resync-period", 30*time.Minute, "How often a converged PhoneAuthMethod re-reads Graph to catch changes made outside phoneop.")
	flag.IntVar(&o.maxConcurrent, "max-concurrent-reconciles", 16, "PhoneAuthMethods reconciled in parallel; each tenant's Graph rate limit still applies.")
	flag.Float64Var(&o.graphRPS, "graph-requests-per-second", graph.DefaultLimits.RequestsPerSecond, "Upper cap on Graph requests per second per tenant. Each tenant starts at Graph's documented rate and adapts to Graph's answers (slower on 429s and near-limit usage, faster while clean) within this cap.")
	flag.Float64Var(&o.graphWPS, "graph-writes-per-second", graph.DefaultLimits.WritesPerSecond, "Upper cap on Graph writes per second per tenant. Each tenant's writes start at Graph's documented 20/s with its 3,000-write bucket full, and adapt within this cap.")
	flag.IntVar(&o.graphBurst, "graph-burst", graph.DefaultLimits.Burst, "Upper cap on the per-tenant Graph request bucket, which starts full at Graph's documented size (3,500).")
	o.podNamespace = os.Getenv("POD_NAMESPACE")
	flag.StringVar(&o.credentialsNamespace, "credentials-namespace", o.podNamespace, "Namespace of the EntraTenant credential Secrets (default: the pod's namespace).")
	flag.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the pod's namespace, else --credentials-namespace, so that --leader-elect also works out of cluster).")
	flag.StringVar(&o.watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces whose PhoneAuthMethods and Secrets the manager watches (the credentials namespace is always added); empty (the default) watches every namespace. The install must then grant Secrets and PhoneAuthMethods only there (docs/security.md).")
	flag.StringVar(&o.shard.Name, "shard", "", "Reconcile only the PhoneAuthMethods and EntraTenants labelled "+shard.Label+"=<this name>, with a Lease of the shard's own; \"\" (the default) reconciles only those without the label (docs/install.md, \"Sharding\").")
	flag.IntVar(&o.shard.Count, "shard-count", 1, "How many managers (the default one and every --shard) share each tenant: each gets 1/N of every Graph cap, so that together they stay within one manager's.")
	zo := zap.Options{}
	zo.BindFlags(flag.CommandLine)
	flag.Parse()
	return o, zo
}

// controllerOptions turns the flags into the controllers' options.
func controllerOptions(o options) controllers.Options {
	limits := graph.DefaultLimits
	limits.RequestsPerSecond, limits.Burst, limits.WritesPerSecond = o.graphRPS, o.graphBurst, o.graphWPS
	return controllers.Options{
		CredentialsNamespace:    o.credentialsNamespace,
		BudgetNamespace:         o.leaseNamespace(),
		ResyncPeriod:            o.resyncPeriod,
		MaxConcurrentReconciles: o.maxConcurrent,
		GraphLimits:             limits,
		Shard:                   o.shard,
		AllowCustomCloud:        o.allowCustomCloud,
		SMSSignInRetirement:     o.smsSignInRetirement,
		ForcedReadsPerMinute:    o.forcedReadsPerMinute,
		ForcedReadBurst:         o.forcedReadBurst,
		// The status key's Secret sits beside the manager (its Role is there); out of cluster,
		// in the credentials namespace.
		StatusKeyNamespace: o.podNamespace,
	}
}

func main() {
	o, zo := parseFlags()
	exitOnVersion()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zo)))
	log := ctrl.Log.WithName("setup")

	metricsOpts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.secureMetrics}
	if o.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if err := o.validate(); err != nil {
		log.Error(err, "invalid flags")
		os.Exit(1)
	}
	namespaces, _ := o.cacheNamespaces() // validate checked the flag
	cfg := ctrl.GetConfigOrDie()
	if namespaces != nil {
		if err := checkNamespaceAccess(context.Background(), cfg, slices.Sorted(maps.Keys(namespaces))); err != nil {
			log.Error(err, "the manager's identity lacks access that --watch-namespaces needs")
			os.Exit(1)
		}
		log.Info("watching only some namespaces", "namespaces", slices.Sorted(maps.Keys(namespaces)))
	}
	mgr, err := ctrl.NewManager(cfg, controllers.ManagerOptions(ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		Cache:                   cache.Options{DefaultNamespaces: namespaces},
		LeaderElection:          o.leaderElect,
		LeaderElectionNamespace: o.leaseNamespace(),
		// The process exits as soon as the manager stops (below), so handing the Lease over
		// at once is safe and makes a rolling update's handover take seconds, not a lease.
		LeaderElectionReleaseOnCancel: true,
	}, o.shard))
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}
	_, err = controllers.Setup(context.Background(), mgr, controllerOptions(o))
	if err != nil {
		log.Error(err, "unable to set up the controllers")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the readiness check")
		os.Exit(1)
	}
	log.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped with an error")
		os.Exit(1)
	}
}

// namespaceAccess is what the caches need in each watched namespace to sync: without it the
// manager would start, never sync, and log the same error forever.
var namespaceAccess = []authorizationv1.ResourceAttributes{
	{Group: "", Resource: "secrets", Verb: "list"},
	{Group: "", Resource: "secrets", Verb: "watch"},
	{Group: identityv1alpha1.GroupVersion.Group, Resource: "phoneauthmethods", Verb: "list"},
	{Group: identityv1alpha1.GroupVersion.Group, Resource: "phoneauthmethods", Verb: "watch"},
}

// checkNamespaceAccess asks the API server (SelfSubjectAccessReview, which every authenticated
// identity may create) whether the manager may list and watch Secrets and PhoneAuthMethods in
// each namespace, and names the first one it may not, with the fix.
func checkNamespaceAccess(ctx context.Context, cfg *rest.Config, namespaces []string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return reviewNamespaceAccess(ctx, cs.AuthorizationV1().SelfSubjectAccessReviews(), namespaces)
}

func reviewNamespaceAccess(ctx context.Context, reviews authorizationv1client.SelfSubjectAccessReviewInterface, namespaces []string) error {
	for _, ns := range namespaces {
		for _, a := range namespaceAccess {
			a.Namespace = ns
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &a}}
			got, err := reviews.Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("asking the API server whether the manager may %s %s in namespace %s: %w", a.Verb, a.Resource, ns, err)
			}
			if !got.Status.Allowed {
				return fmt.Errorf("the manager may not %s %s in namespace %s, which --watch-namespaces (or --credentials-namespace) names: bind the manager-role ClusterRole to its ServiceAccount with a RoleBinding in %s (docs/install.md, \"Namespace-scoped install\")", a.Verb, a.Resource, ns, ns)
			}
		}
	}
	return nil
}
