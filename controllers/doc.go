// Package controllers holds phoneop's reconcilers: PhoneAuthMethod (one phone of one Entra
// user, converged against Microsoft Graph) and EntraTenant (a tenant connection's health).
// They orchestrate; the decisions and the machinery live in packages under internal/, which
// never import this one (layering_test.go).
//
// A PhoneAuthMethod reconcile, file by file:
//
//	phoneauthmethod_controller.go  the spine: fetch, finalizer, phases, one deferred status patch;
//	                               the watches (watchmaps.go maps events to objects)
//	finalizer.go                   the finalizer follows the policies: only deletionPolicy Delete
//	                               (managementPolicy Full) needs Graph on delete, and carries it
//	phoneauthmethod_phases.go      the scope a pass fills in; normal and delete phases; release
//	phoneauthmethod_resolve.go     resolve: tenant (Ready, grant, connection: internal/tenantconn),
//	                               number (spec or Secret), user (object id), user kind
//	                               (no guest or admin unless allowed: internal/privileged),
//	                               slot owner
//	phoneauthmethod_converge.go    observe (internal/observe) → plan (internal/plan, pure) → apply,
//	                               in rounds until the plan is empty or blocked
//	phoneauthmethod_pace.go        the rate rails of a pass (internal/pace): forced re-reads per
//	                               object and namespace, ObserveOnly/CreateOnly comparisons
//	phoneauthmethod_apply.go       apply: one row per Graph write kind, the change budget
//	                               (internal/budget: which pool a write spends, the token taken
//	                               before it, the refund after a refusal, the wait checked
//	                               before Graph is read), and the write record (internal/writeguard)
//	events.go                      which Graph writes get an Event (not a new object's new phone)
//	outcome.go                     the outcome of a pass: one constructor per kind of result
//	phoneauthmethod_status.go      status: outcome → conditions (internal/conditions), requeue,
//	                               the resync schedule (internal/schedule)
//
// What a new object costs the API server: its status patch, nothing else. An Orphan object (the
// default) carries no finalizer, so it is created and deleted without a finalizer patch and is
// never stuck Terminating when phoneop is down or uninstalled; creating the phone a new object
// asks for records no Event (Ready and the status say it, Entra's audit log records it). Events
// are kept for what status does not tell: a number replaced, a phone deleted or re-created,
// drift put back, warnings (events.go).
//
// Beside them: entratenant_controller.go (the tenant's token and status) and setup.go (the one
// wiring for main.go and the tests: the informer cache's transform (internal/cachemeta),
// sharding, the change feed, the fair queue, the Event recorder, the status key
// (internal/statuskey), the user cache (internal/usercache), the rate rails (internal/pace),
// the metrics (internal/objectmetrics) and when SMS sign-in retires per cloud
// (internal/smsretirement, --sms-sign-in-retirement; the planner decides what that means for an
// object)). Ownership of a phone among several claimants is internal/ownership's.
package controllers

// RBAC for the manager, least privilege: only the verbs the code calls. PhoneAuthMethods are
// patched only for the finalizer (patchFinalizers) and their status is patched; EntraTenants are read and their
// status patched; Secrets are read (uncached Get) and watched as metadata only; Namespaces'
// labels decide grants; Events go through events.k8s.io. The change budget's Leases (get,
// create, update in the manager's own namespace, read uncached) need no marker: the namespaced
// leader-election Role of every install (config/rbac, the chart) grants them, and a namespaced
// marker would add a second document to role.yaml, which the chart reads as one ClusterRole.
// The status key Secret (internal/statuskey) is created and read through a Role of its own in
// the manager's namespace (config/rbac/status_key_role.yaml), not through these markers: a
// marker would make it a ClusterRole rule.
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods/status,verbs=patch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=phoneauthmethods/finalizers,verbs=update
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=entratenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.phoneop.dev,resources=entratenants/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
