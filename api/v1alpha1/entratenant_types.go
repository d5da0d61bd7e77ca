package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Cloud is the Microsoft cloud a tenant lives in; it picks the login authority and Graph root.
// +kubebuilder:validation:Enum=Global;USGov;USGovDoD;China;Custom
type Cloud string

const (
	// CloudGlobal is login.microsoftonline.com and graph.microsoft.com.
	CloudGlobal Cloud = "Global"
	// CloudUSGov is US Government L4 (GCC High): login.microsoftonline.us and graph.microsoft.us.
	CloudUSGov Cloud = "USGov"
	// CloudUSGovDoD is US Government L5 (DoD): login.microsoftonline.us and dod-graph.microsoft.us.
	CloudUSGovDoD Cloud = "USGovDoD"
	// CloudChina is Microsoft Azure operated by 21Vianet; it cannot enable or disable SMS sign-in.
	CloudChina Cloud = "China"
	// CloudCustom takes authorityHost and graphEndpoint from the spec: the Graph emulator and
	// private clouds.
	CloudCustom Cloud = "Custom"
)

// CredentialSecretReference selects a key of a Secret in the operator's own namespace. Only the
// operator's namespace is read, so that granting a tenant never requires reading Secrets in
// application namespaces.
type CredentialSecretReference struct {
	// name of the Secret in the operator's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
	// key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Key string `json:"key"`
}

// ClientSecretCredential authenticates the app registration with a client secret.
type ClientSecretCredential struct {
	// clientId is the application (client) id of the app registration.
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="clientId must be a GUID such as 00000000-0000-0000-0000-000000000000"
	// +kubebuilder:validation:MaxLength=36
	// +required
	ClientID string `json:"clientId"`
	// secretRef selects the client secret.
	// +required
	SecretRef CredentialSecretReference `json:"secretRef"`
}

// ClientCertificateCredential authenticates the app registration with a certificate.
type ClientCertificateCredential struct {
	// clientId is the application (client) id of the app registration.
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="clientId must be a GUID such as 00000000-0000-0000-0000-000000000000"
	// +kubebuilder:validation:MaxLength=36
	// +required
	ClientID string `json:"clientId"`
	// secretRef selects the certificate and its private key, PEM (both blocks in one value)
	// or PKCS#12.
	// +required
	SecretRef CredentialSecretReference `json:"secretRef"`
	// passwordRef selects the password of an encrypted PKCS#12 or PEM key, if any.
	// +optional
	PasswordRef *CredentialSecretReference `json:"passwordRef,omitempty"`
}

// WorkloadIdentityCredential authenticates with Azure workload identity federation: the
// operator's ServiceAccount token is exchanged for an Entra token (no secret is stored).
type WorkloadIdentityCredential struct {
	// clientId is the application (client) id of the app registration or managed identity
	// that trusts the operator's ServiceAccount.
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="clientId must be a GUID such as 00000000-0000-0000-0000-000000000000"
	// +kubebuilder:validation:MaxLength=36
	// +required
	ClientID string `json:"clientId"`
}

// TenantCredentials holds exactly one way to authenticate.
// +kubebuilder:validation:XValidation:rule="[has(self.clientSecret), has(self.clientCertificate), has(self.workloadIdentity)].filter(x, x).size() == 1",message="spec.credentials must set exactly one of clientSecret, clientCertificate or workloadIdentity"
type TenantCredentials struct {
	// clientSecret authenticates with a client secret stored in a Secret.
	// +optional
	ClientSecret *ClientSecretCredential `json:"clientSecret,omitempty"`
	// clientCertificate authenticates with a certificate stored in a Secret.
	// +optional
	ClientCertificate *ClientCertificateCredential `json:"clientCertificate,omitempty"`
	// workloadIdentity authenticates with Azure workload identity federation.
	// +optional
	WorkloadIdentity *WorkloadIdentityCredential `json:"workloadIdentity,omitempty"`
}

// UserScope limits which users PhoneAuthMethods may manage through this tenant.
type UserScope struct {
	// allowedDomains are userPrincipalName domain suffixes (e.g. "contoso.com") a user must
	// match; empty allows every domain. Users given by object id are checked by their
	// resolved userPrincipalName.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=253
	AllowedDomains []string `json:"allowedDomains,omitempty"`
	// deniedUsers are userPrincipalNames or object ids that may never be managed, e.g.
	// break-glass and admin accounts; compared case-insensitively. Prefer object ids: a UPN
	// can be renamed or reused, an object id never names anyone else. Users are judged on
	// what Graph says now: a user is looked up again at least once per resync period and
	// before every number change or delete.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=256
	DeniedUsers []string `json:"deniedUsers,omitempty"`
	// allowPrivilegedUsers lets phoneop manage the phones of users who hold an Entra directory
	// role, active or eligible (PIM), directly or through a role-assignable group. Off by
	// default: Entra lets only a Privileged Authentication Administrator manage an admin's
	// authentication methods, while an app with UserAuthenticationMethod.ReadWrite.All is not
	// held to that rule, so phoneop refuses such users (reason PrivilegedUser) unless this is
	// true. Checking needs the application permissions RoleManagement.Read.Directory and
	// GroupMember.Read.All; without them every user of the tenant is refused
	// (PrivilegedUsersUnknown).
	// +optional
	AllowPrivilegedUsers bool `json:"allowPrivilegedUsers,omitempty"`
	// allowGuests lets phoneop manage the phones of guest users (userType Guest, or a
	// userPrincipalName containing #EXT#). Off by default: a guest's phones belong to their
	// home tenant's processes (reason GuestUser).
	// +optional
	AllowGuests bool `json:"allowGuests,omitempty"`
}

// EntraTenantSpec is a connection to one Microsoft Entra tenant and who may use it.
// +kubebuilder:validation:XValidation:rule="self.cloud == 'Custom' ? (has(self.authorityHost) && has(self.graphEndpoint)) : (!has(self.authorityHost) && !has(self.graphEndpoint))",message="spec.authorityHost and spec.graphEndpoint are required when spec.cloud is Custom and not allowed otherwise"
type EntraTenantSpec struct {
	// tenantId is the directory (tenant) id, a GUID. Immutable.
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="spec.tenantId must be the tenant's GUID such as 00000000-0000-0000-0000-000000000000"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.tenantId is immutable; create a new EntraTenant for another tenant"
	// +required
	TenantID string `json:"tenantId"`

	// cloud is Global (the default), USGov, USGovDoD, China or Custom.
	// +kubebuilder:default=Global
	// +optional
	Cloud Cloud `json:"cloud,omitempty"`

	// authorityHost is the https login authority, only for cloud Custom
	// (e.g. the Graph emulator's URL).
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="spec.authorityHost must be an https URL"
	// +optional
	AuthorityHost string `json:"authorityHost,omitempty"`

	// graphEndpoint is the https Graph root (without /v1.0), only for cloud Custom.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="spec.graphEndpoint must be an https URL"
	// +optional
	GraphEndpoint string `json:"graphEndpoint,omitempty"`

	// credentials says how phoneop authenticates as the tenant's app registration.
	// +required
	Credentials TenantCredentials `json:"credentials"`

	// allowedNamespaces selects the namespaces whose PhoneAuthMethods may use this tenant.
	// Required so that granting is explicit: {} allows every namespace.
	// +required
	AllowedNamespaces *metav1.LabelSelector `json:"allowedNamespaces"`

	// userScope limits which users may be managed through this tenant.
	// +optional
	UserScope UserScope `json:"userScope,omitempty"`

	// changeBudget caps, per rolling hour, the destructive writes and the new phones phoneop
	// makes through this tenant, so that a bad commit cannot strip, rewrite or add thousands of
	// MFA phones at once.
	// +kubebuilder:default={}
	// +optional
	ChangeBudget ChangeBudget `json:"changeBudget,omitempty"`

	// changeFeed makes phoneop read Entra's audit log to notice phone changes made outside it,
	// so that the full re-read of every user becomes a rare safety net. Off unless enabled.
	// +optional
	ChangeFeed *ChangeFeed `json:"changeFeed,omitempty"`
}

// Defaults of a change feed that leaves them unset.
const (
	DefaultChangeFeedPollInterval = time.Minute
	DefaultChangeFeedSweepPeriod  = 24 * time.Hour
)

// ChangeFeed reads the tenant's audit log (GET /auditLogs/directoryAudits, entries of the
// service "Authentication Methods") every pollInterval and re-reads, at once, exactly the
// managed users whose phone methods someone else changed. While the feed works, converged
// objects re-read Graph only every sweepPeriod; while it fails, every --resync-period, and the
// EntraTenant's ChangeFeed condition says why. Needs the application permission
// AuditLog.Read.All (docs/entra-app.md).
type ChangeFeed struct {
	// enabled turns the change feed on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// pollInterval is how often phoneop reads the audit log: 5s to 1h, default 1m. Entra
	// delivers audit entries minutes after the change, so polling faster than every 30 s buys
	// little.
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5s') && duration(self) <= duration('1h')",message="spec.changeFeed.pollInterval must be between 5s and 1h"
	// +optional
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`
	// sweepPeriod is how often a converged object re-reads Graph while the feed is healthy (the
	// safety net for changes the audit log does not show): 5m to 168h, default 24h, spread
	// evenly over the period per user.
	// +kubebuilder:default="24h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5m') && duration(self) <= duration('168h')",message="spec.changeFeed.sweepPeriod must be between 5m and 168h"
	// +optional
	SweepPeriod *metav1.Duration `json:"sweepPeriod,omitempty"`
}

// IsEnabled reports whether the spec turns the change feed on (a nil feed is off).
func (f *ChangeFeed) IsEnabled() bool { return f != nil && f.Enabled }

// Interval returns pollInterval, with the default when unset.
func (f *ChangeFeed) Interval() time.Duration {
	if f == nil || f.PollInterval == nil || f.PollInterval.Duration <= 0 {
		return DefaultChangeFeedPollInterval
	}
	return f.PollInterval.Duration
}

// Sweep returns sweepPeriod, with the default when unset.
func (f *ChangeFeed) Sweep() time.Duration {
	if f == nil || f.SweepPeriod == nil || f.SweepPeriod.Duration <= 0 {
		return DefaultChangeFeedSweepPeriod
	}
	return f.SweepPeriod.Duration
}

// DefaultMaxDestructiveWritesPerHour is the cap on destructive writes of a tenant that sets none.
const DefaultMaxDestructiveWritesPerHour = 50

// DefaultMaxCreatesPerHour is the cap on new phones of a tenant that sets none: 50,000 per
// rolling hour. Onboarding must not crawl: Graph lets one app write 3,000 times per 150 s per
// tenant (72,000 per hour), so a bank onboarding 50,000 users is limited by Graph, not by this
// cap, and finishes within the hour; a runaway still adds at most 50,000 phones per hour.
const DefaultMaxCreatesPerHour = 50000

// ChangeBudget caps, per rolling hour, the risky Graph writes phoneop makes through the tenant,
// so that a bad commit or a compromised namespace cannot strip, rewrite or add thousands of MFA
// phones at once. The ledger is shared by every replica and shard and survives restarts (a
// Lease per tenant id in the manager's namespace). A write Graph refused, or that never
// reached Graph, gives its slot back.
type ChangeBudget struct {
	// maxDestructiveWritesPerHour caps destructive writes: number changes, deletes of existing
	// phones, and SMS sign-in changes (enable or disable) of a phone that existed before the
	// pass, drift corrections included. Beyond it, objects wait (reason ChangeBudgetExceeded)
	// until the hour frees one or the cap is raised. 0 allows none.
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	// +optional
	MaxDestructiveWritesPerHour *int32 `json:"maxDestructiveWritesPerHour,omitempty"`
	// maxCreatesPerHour caps new phones: a create for a user who has no phone of the type (and
	// the SMS sign-in setting of a phone created in the same pass). Generous by default
	// (50,000): a bank onboarding 50,000 users at Graph's write rate (3,000 writes per 150 s)
	// is paced by Graph, not by this cap, while a runaway commit still adds at most this many
	// MFA factors per hour. Beyond it, objects wait (reason ChangeBudgetExceeded). 0 allows none.
	// +kubebuilder:default=50000
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	MaxCreatesPerHour *int32 `json:"maxCreatesPerHour,omitempty"`
}

// DestructiveWritesPerHour returns the tenant's cap on destructive writes, with the default
// when unset.
func (b ChangeBudget) DestructiveWritesPerHour() int {
	if b.MaxDestructiveWritesPerHour == nil {
		return DefaultMaxDestructiveWritesPerHour
	}
	return int(*b.MaxDestructiveWritesPerHour)
}

// CreatesPerHour returns the tenant's cap on new phones, with the default when unset.
func (b ChangeBudget) CreatesPerHour() int {
	if b.MaxCreatesPerHour == nil {
		return DefaultMaxCreatesPerHour
	}
	return int(*b.MaxCreatesPerHour)
}

// EntraTenantStatus reports whether phoneop can talk to the tenant.
type EntraTenantStatus struct {
	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (credentials load and a token was obtained) and, with
	// spec.changeFeed enabled, ChangeFeed (the audit log is read; objects sweep every
	// sweepPeriod).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// changeFeed is where the change feed resumes after a restart; absent while the feed is
	// off.
	// +optional
	ChangeFeed *ChangeFeedStatus `json:"changeFeed,omitempty"`
}

// ChangeFeedStatus is the persisted position of the change feed.
type ChangeFeedStatus struct {
	// watermark is the start of the last successful poll of the audit log: every entry that
	// had arrived by then has been read. The next poll (after a restart too) asks for entries
	// from watermark minus an overlap of 10 minutes, because Entra delivers entries minutes
	// late. Written when the ChangeFeed condition changes and otherwise at most every
	// 5 minutes, so a restart re-reads at most 15 minutes of the log.
	// +optional
	Watermark *metav1.Time `json:"watermark,omitempty"`
}

// EntraTenant is a cluster-scoped connection to a Microsoft Entra tenant that a cluster admin
// grants to selected namespaces.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=phoneop
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantId`
// +kubebuilder:printcolumn:name="Cloud",type=string,JSONPath=`.spec.cloud`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Feed",type=string,JSONPath=`.status.conditions[?(@.type=="ChangeFeed")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type EntraTenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the tenant connection.
	// +required
	Spec EntraTenantSpec `json:"spec"`
	// status reports whether the connection works.
	// +optional
	Status EntraTenantStatus `json:"status,omitempty"`
}

// EntraTenantList is a list of EntraTenants.
// +kubebuilder:object:root=true
type EntraTenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EntraTenant `json:"items"`
}

func init() {
	SchemeBuilder.Register(&EntraTenant{}, &EntraTenantList{})
}
