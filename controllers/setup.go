package controllers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/phoneop/phoneop/internal/budget"
	"github.com/phoneop/phoneop/internal/cachemeta"
	"github.com/phoneop/phoneop/internal/changefeed"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/objectmetrics"
	"github.com/phoneop/phoneop/internal/observe"
	"github.com/phoneop/phoneop/internal/pace"
	"github.com/phoneop/phoneop/internal/privileged"
	"github.com/phoneop/phoneop/internal/recorder"
	"github.com/phoneop/phoneop/internal/shard"
	"github.com/phoneop/phoneop/internal/smsretirement"
	"github.com/phoneop/phoneop/internal/statuskey"
	"github.com/phoneop/phoneop/internal/tenantconn"
	"github.com/phoneop/phoneop/internal/usercache"
	"github.com/phoneop/phoneop/internal/userindex"
)

// Options configure the controllers. main.go fills them from its flags and the envtest suite
// from test settings; both go through Setup, so the tests run the manager production runs.
type Options struct {
	// CredentialsNamespace holds the EntraTenant credential Secrets (required).
	CredentialsNamespace string
	// ResyncPeriod is how often a converged object re-reads Graph to catch drift (required).
	ResyncPeriod time.Duration
	// MaxConcurrentReconciles bounds parallel PhoneAuthMethod reconciles (required).
	MaxConcurrentReconciles int
	// GraphLimits bound each tenant's Graph request rate and retries.
	GraphLimits graph.Limits
	// HTTPClient carries token and Graph requests; nil means the default transport. Tests pass
	// one that trusts the Graph emulator's certificate.
	HTTPClient *http.Client
	// Throttles is the per-tenant throttling registry; nil means graph.DefaultThrottles.
	Throttles *graph.Throttles
	// CredentialRecheck is how often a cached connection re-reads its Secret's
	// resourceVersion; zero means 5 minutes.
	CredentialRecheck time.Duration
	// ObserverTTL is how long one user's phone-method list is shared between that user's
	// objects; zero means min(10 s, ResyncPeriod/4). It must stay well under the resync period,
	// or a resync would be answered from the cache.
	ObserverTTL time.Duration
	// SettleWindow is how long a write Graph accepted is trusted over a read that still shows
	// the state before it (Graph's reads lag its writes; callers wait 5-10 s); zero means 15 s.
	SettleWindow time.Duration
	// ChangeFeedTick is how often the change feeds check for a due poll; zero means one second.
	ChangeFeedTick time.Duration
	// AllowCustomCloud lets EntraTenants with cloud Custom connect (--allow-custom-cloud): the
	// Graph emulator in tests, the demo and the benchmark, or a private cloud.
	AllowCustomCloud bool
	// PrivilegedRefresh is how often each tenant's privileged users (directory roles) are read
	// again; zero means privileged.DefaultRefresh (15 minutes).
	PrivilegedRefresh time.Duration
	// BudgetNamespace holds the change budget's Leases: the leader-election namespace, whose
	// Role already grants get/create/update on Leases; empty means CredentialsNamespace.
	BudgetNamespace string
	// SMSSignInRetirement is when SMS sign-in retires in each cloud (--sms-sign-in-retirement);
	// nil means Microsoft's announcement (smsretirement.Default), an empty map nowhere.
	SMSSignInRetirement smsretirement.Schedule
	// Now is the PhoneAuthMethod reconciler's clock; nil means time.Now. Tests move it past
	// the SMS sign-in retirement.
	Now func() time.Time
	// ForcedReadInterval is the least time between two forced re-reads
	// (phoneop.dev/reconcile-requested-at) of one object; zero means pace.DefaultForcedReadInterval.
	ForcedReadInterval time.Duration
	// ForcedReadsPerMinute and ForcedReadBurst meter each namespace's forced re-reads (a token
	// bucket); zero means pace.DefaultForcedReadsPerMinute and pace.DefaultForcedReadBurst.
	ForcedReadsPerMinute float64
	ForcedReadBurst      int
	// ComparisonInterval is the least time between comparisons of two different desired numbers
	// with Graph's for one phone in ObserveOnly and CreateOnly; zero means
	// pace.DefaultComparisonInterval.
	ComparisonInterval time.Duration
	// StatusKeyNamespace is the manager's own namespace, where the Secret holding the key of
	// the hashes in status lives (internal/statuskey); empty means CredentialsNamespace.
	StatusKeyNamespace string
	// UserFillThreshold is how many user keys a tenant's objects must hold before the user
	// cache pages the tenant's directory instead of looking users up one by one; zero means
	// usercache.DefaultFillThreshold.
	UserFillThreshold int
	// Shard is this manager's place among the shards; the zero value is the default shard of
	// an unsharded install. ManagerOptions must be given the same value.
	Shard shard.Config
}

// graphLimits are this manager's Graph caps per tenant: GraphLimits, shared among the shards.
func (o Options) graphLimits() graph.Limits { return o.Shard.Limits(o.GraphLimits) }

// smsSignInRetirement is SMSSignInRetirement, or Microsoft's announcement when unset.
func (o Options) smsSignInRetirement() smsretirement.Schedule {
	if o.SMSSignInRetirement == nil {
		return smsretirement.Default()
	}
	return o.SMSSignInRetirement
}

// Controllers are the reconcilers Setup registered, for tests that drive them directly.
type Controllers struct {
	PhoneAuthMethods *PhoneAuthMethodReconciler
	Tenants          *EntraTenantReconciler
	Feeds            *changefeed.Feeds
}

// Setup registers phoneop's metrics, both reconcilers and the change feeds with the manager,
// sharing one Connector (one Graph client per tenant, throttling shared per tenant) and one
// Observer (one read per user).
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) (*Controllers, error) {
	if o.CredentialsNamespace == "" {
		return nil, errors.New("the credentials namespace (--credentials-namespace or POD_NAMESPACE) must name the namespace of the EntraTenant credential Secrets")
	}
	if o.ResyncPeriod <= 0 || o.MaxConcurrentReconciles <= 0 {
		return nil, errors.New("the resync period and the concurrent reconciles must be positive")
	}
	// Read (or, on the first start, created) before anything reconciles: every write hash in
	// status is keyed with it. mgr.GetClient() writes and reads uncached before the manager starts
	// (Secrets are never cached).
	key, err := statuskey.LoadOrCreate(ctx, mgr.GetClient(), cmp.Or(o.StatusKeyNamespace, o.CredentialsNamespace))
	if err != nil {
		return nil, err
	}
	graph.RegisterMetrics(metrics.Registry)
	// The change budget's Leases live in the manager's namespace, read uncached (a cached read
	// would start a cluster-wide Lease informer) and written with optimistic concurrency.
	budgets := &budget.Ledger{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Namespace: cmp.Or(o.BudgetNamespace, o.CredentialsNamespace)}
	if err := mgr.Add(budgets); err != nil { // gives back its unspent block tokens when the manager stops
		return nil, err
	}
	connector := o.connector(mgr, o.graphLimits(), o.Throttles)
	observer := &observe.Observer{
		TTL:    cmp.Or(o.ObserverTTL, min(10*time.Second, o.ResyncPeriod/4)),
		Settle: cmp.Or(o.SettleWindow, 15*time.Second),
	}
	userIndex := userindex.New()
	if err := userIndex.Watch(ctx, mgr.GetCache()); err != nil {
		return nil, err
	}
	// Every Graph write the reconciler makes is recorded, so that the change feed can tell
	// phoneop's own audit entries from someone else's use of its credential.
	writes := &changefeed.WriteLog{}
	feeds := &changefeed.Feeds{Client: mgr.GetClient(), Connector: feedConnector(mgr, o), Observer: observer, UserIndex: userIndex,
		ResyncPeriod: o.ResyncPeriod, Tick: o.ChangeFeedTick, Writes: writes, ReportsShare: o.graphLimits().Share}
	for _, c := range []prometheus.Collector{&objectmetrics.Collector{Reader: mgr.GetClient()}, &budget.Collector{Reader: mgr.GetClient(), Budgets: budgets},
		&changefeed.Collector{Reader: mgr.GetClient(), Feeds: feeds}} {
		if err := metrics.Registry.Register(c); err != nil {
			return nil, err
		}
	}
	// Every shard reads every EntraTenant (shard.Config.Cache); only the tenant's own shard
	// checks its credentials and writes its status (the change feed's watermark and condition
	// included; every shard polls the feeds its own objects need).
	feeds.Owns = o.Shard.Owns
	tenants := &EntraTenantReconciler{Client: mgr.GetClient(), Connector: connector, Owns: o.Shard.Owns}
	if err := tenants.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	// Not mgr.GetEventRecorder: its broadcaster keeps every Event it sent for minutes (internal/recorder).
	events := &recorder.EventRecorder{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Controller: "phoneop"}
	if err := mgr.Add(events); err != nil {
		return nil, err
	}
	feeds.Recorder = events
	phones := &PhoneAuthMethodReconciler{
		Client:                  mgr.GetClient(),
		SecretReader:            mgr.GetAPIReader(),
		Connector:               &changefeed.RecordingConnector{TenantConnector: connector, Writes: writes},
		Observer:                observer,
		Users:                   &usercache.Cache{TTL: o.ResyncPeriod, FillThreshold: o.UserFillThreshold}, // grants judged on facts at most a period old
		Privileged:              &privileged.Cache{Refresh: o.PrivilegedRefresh},
		UserIndex:               userIndex,
		Budgets:                 budgets,
		Recorder:                events,
		ResyncPeriod:            o.ResyncPeriod,
		Sweeps:                  feeds,
		Wakes:                   feeds.Source(),
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		SMSSignInRetirement:     o.smsSignInRetirement(),
		Now:                     o.Now,
		StatusKey:               key,
		ForcedReads:             pace.NewForcedReads(o.ForcedReadInterval, o.ForcedReadsPerMinute, o.ForcedReadBurst),
		Comparisons:             pace.NewComparisons(o.ComparisonInterval),
	}
	phones.forcedReadNotices.Interval = phones.ForcedReads.PerObject.Interval
	if err := phones.SetupWithManager(ctx, mgr); err != nil {
		return nil, err
	}
	if err := mgr.Add(feeds); err != nil {
		return nil, err
	}
	ctrl.Log.WithName("setup").Info("sharding", "shard", o.Shard.Name, "selector", o.Shard.Selector().String(),
		"shardCount", max(1, o.Shard.Count), "lease", o.Shard.LeaderElectionID())
	return &Controllers{PhoneAuthMethods: phones, Tenants: tenants, Feeds: feeds}, nil
}

// feedConnector is the change feed's own connection to each tenant: Graph limits the audit
// log apart from the directory ("Identity and access reports"), so the feed's reads must
// neither spend the directory budget nor be paused by its 429s, nor pause it with theirs. The
// feed keeps the reports limits itself, one request at a time, so the client makes no retries
// of its own (a failed poll is the next poll's, after Graph's Retry-After).
func feedConnector(mgr ctrl.Manager, o Options) *tenantconn.Connector {
	limits := o.graphLimits()
	limits.MaxRetries = -1
	return o.connector(mgr, limits, graph.NewThrottles(nil))
}

// connector connects to each tenant with the credentials in CredentialsNamespace, within
// limits, pausing on the 429s that throttles records (nil: graph.DefaultThrottles).
func (o Options) connector(mgr ctrl.Manager, limits graph.Limits, throttles *graph.Throttles) *tenantconn.Connector {
	return &tenantconn.Connector{
		Reader:           mgr.GetAPIReader(),
		Namespace:        o.CredentialsNamespace,
		HTTPClient:       o.HTTPClient,
		Limits:           limits,
		Throttles:        throttles,
		RecheckAfter:     cmp.Or(o.CredentialRecheck, 5*time.Minute),
		AllowCustomCloud: o.AllowCustomCloud,
	}
}

// ManagerOptions adds what phoneop needs from the manager to base:
//   - the cache keeps only what the reconcilers read (cachemeta.Strip), and only the
//     shard's PhoneAuthMethods (shard.Config.Cache);
//   - the Lease is the shard's own, so each shard elects its own leader;
//   - Secrets are never cached by the client: phoneNumberFrom and credential Secrets are read
//     uncached, and only their metadata is watched.
func ManagerOptions(base ctrl.Options, s shard.Config) ctrl.Options {
	base.Cache = s.Cache(base.Cache)
	base.LeaderElectionID = s.LeaderElectionID()
	base.Cache.DefaultTransform = cachemeta.Strip()
	base.Client.Cache = &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}
	return base
}
