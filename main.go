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
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/controllers"
	"github.com/phoneop/phoneop/internal/graph"
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
	credentialsNamespace string
}

// validate refuses flag values that would silently disable a safeguard: resync (drift would go
// unnoticed, and siblings would stop sharing reads) or the Graph rate limit.
func (o options) validate() error {
	switch {
	case o.resyncPeriod < time.Second:
		return fmt.Errorf("--resync-period must be at least 1s (30m is the default), got %s", o.resyncPeriod)
	case o.graphRPS <= 0 || o.graphBurst <= 0:
		return errors.New("--graph-requests-per-second and --graph-burst must be positive")
	case o.maxConcurrent <= 0:
		return errors.New("--max-concurrent-reconciles must be positive")
	}
	return nil
}

func parseFlags() (options, zap.Options) {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "Address the metrics endpoint binds to; \"0\" disables it.")
	flag.BoolVar(&o.secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS behind Kubernetes authentication and authorization.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "", "Address to serve Go's pprof profiles on (e.g. 127.0.0.1:6060); \"\" (the default) serves none. For profiling, never expose it.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.DurationVar(&o.resyncPeriod, "resync-period", 30*time.Minute, "How often a converged PhoneAuthMethod re-reads Graph to catch changes made outside phoneop.")
	flag.IntVar(&o.maxConcurrent, "max-concurrent-reconciles", 16, "PhoneAuthMethods reconciled in parallel; each tenant's Graph rate limit still applies.")
	flag.Float64Var(&o.graphRPS, "graph-requests-per-second", graph.DefaultLimits.RequestsPerSecond, "Graph requests per second per tenant (client-side token bucket, below Graph's documented limit).")
	flag.IntVar(&o.graphBurst, "graph-burst", graph.DefaultLimits.Burst, "Burst of the per-tenant Graph token bucket.")
	flag.StringVar(&o.credentialsNamespace, "credentials-namespace", os.Getenv("POD_NAMESPACE"), "Namespace of the EntraTenant credential Secrets (default: the pod's namespace).")
	zo := zap.Options{}
	zo.BindFlags(flag.CommandLine)
	flag.Parse()
	return o, zo
}

// controllerOptions turns the flags into the controllers' options.
func controllerOptions(o options) controllers.Options {
	limits := graph.DefaultLimits
	limits.RequestsPerSecond, limits.Burst = o.graphRPS, o.graphBurst
	return controllers.Options{
		CredentialsNamespace:    o.credentialsNamespace,
		ResyncPeriod:            o.resyncPeriod,
		MaxConcurrentReconciles: o.maxConcurrent,
		GraphLimits:             limits,
	}
}

func main() {
	o, zo := parseFlags()
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
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), controllers.ManagerOptions(ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsOpts,
		HealthProbeBindAddress: o.probeAddr,
		PprofBindAddress:       o.pprofAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       "phoneop.identity.phoneop.dev",
	}))
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}
	if _, err := controllers.Setup(context.Background(), mgr, controllerOptions(o)); err != nil {
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
