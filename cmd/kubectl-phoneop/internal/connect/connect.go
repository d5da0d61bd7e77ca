// Package connect gives the plugin a Graph client for one tenant, and a Kubernetes client
// when a kubeconfig is usable. Credentials come, by default, from a read-only app or person
// through azidentity (ReadOnlyChain: environment, workload identity, az login); only when
// asked explicitly (FromManagerSecret) from the EntraTenant's Secret, the manager's write
// credential, read by internal/tenantconn exactly as the manager reads it, with the
// kubeconfig's own rights. The Graph client is internal/graph's, with its per-tenant
// throttle, retries and error classes.
package connect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// Credential sources.
const (
	// FromAzidentity (the default) uses ReadOnlyChain: the credentials of a read-only app
	// (docs/entra-app.md) or of the person running the plugin.
	FromAzidentity = "azidentity"
	// FromManagerSecret reads the EntraTenant and its credential Secret from the cluster: the
	// manager's write credential, which can rewrite every phone of the directory, although
	// export and report only read. Only when asked explicitly.
	FromManagerSecret = "manager-secret"
	// FromEntraTenant is FromManagerSecret's name before it stopped being the default; still
	// accepted, as an explicit request.
	FromEntraTenant = "entratenant"
)

// UsesManagerSecret reports whether from asks for the manager's write credential.
func UsesManagerSecret(from string) bool { return from == FromManagerSecret || from == FromEntraTenant }

// Options are the connection flags.
type Options struct {
	// Tenant is the EntraTenant's name: the tenantRef of exported objects and, with
	// FromEntraTenant, where the credentials are read.
	Tenant string
	// CredentialsFrom is FromAzidentity or FromManagerSecret (FromEntraTenant).
	CredentialsFrom string
	// CredentialsNamespace holds the EntraTenants' credential Secrets.
	CredentialsNamespace string
	// TenantID, Cloud, AuthorityHost and GraphEndpoint describe the tenant when it is not
	// read from the cluster (FromAzidentity); empty values are taken from the EntraTenant
	// when the cluster is reachable.
	TenantID, Cloud, AuthorityHost, GraphEndpoint string
	// Kube selects the cluster: kubectl's flags (--kubeconfig, --context, --as, …) through
	// cli-runtime's ConfigFlags; nil means the usual rules (KUBECONFIG, ~/.kube/config,
	// current context).
	Kube genericclioptions.RESTClientGetter
	// Limits bound the Graph request rate (internal/graph's defaults for zero fields).
	Limits graph.Limits
	// HTTPClient carries token and Graph requests; nil means the default transport (which
	// honours SSL_CERT_FILE, how the emulator's certificate is trusted).
	HTTPClient *http.Client
}

// Conn is a tenant's Graph client, and what the cluster told about the tenant.
type Conn struct {
	Graph    *graph.Client
	TenantID string
	// Kube is nil when no kubeconfig could be loaded (FromAzidentity only).
	Kube client.Client
	// EntraTenant is nil when it was not read (no cluster, or not found with FromAzidentity).
	EntraTenant *identityv1alpha1.EntraTenant
	// Throttles is the per-tenant throttling registry the client uses.
	Throttles *graph.Throttles
}

// userAgent names the plugin in Graph's logs.
var userAgent = "kubectl-phoneop/" + graph.Version

// Error is a failure to connect whose message says what to do.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func fail(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }

// Connect builds the Graph client for o.Tenant.
func Connect(ctx context.Context, o Options) (*Conn, error) {
	switch o.CredentialsFrom {
	case FromAzidentity, FromManagerSecret, FromEntraTenant:
	default:
		return nil, fail("--credentials-from must be %s or %s, not %q", FromAzidentity, FromManagerSecret, o.CredentialsFrom)
	}
	if o.Tenant == "" {
		return nil, fail("set --tenant to the EntraTenant's name (kubectl get entratenants lists them)")
	}
	conn := &Conn{Throttles: graph.NewThrottles(nil)}
	kube, kubeErr := KubeClient(o.Kube)
	if kubeErr == nil {
		conn.Kube = kube
	}
	if UsesManagerSecret(o.CredentialsFrom) {
		if kubeErr != nil {
			return nil, fail("cannot use the kubeconfig (%v): set --kubeconfig/--context, or use --credentials-from=%s --tenant-id=<GUID>", kubeErr, FromAzidentity)
		}
		return conn, connectFromTenant(ctx, conn, o)
	}
	return conn, connectFromAzidentity(ctx, conn, o)
}

// KubeClient loads the kubeconfig as kubectl does (getter nil: the usual rules) and checks
// nothing else: the first request says whether the cluster answers.
func KubeClient(getter genericclioptions.RESTClientGetter) (client.Client, error) {
	if getter == nil {
		getter = genericclioptions.NewConfigFlags(false)
	}
	cfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// connectFromTenant reads the EntraTenant and its Secret through tenantconn, as the manager
// does, with the kubeconfig's own rights.
func connectFromTenant(ctx context.Context, conn *Conn, o Options) error {
	t, err := getTenant(ctx, conn.Kube, o.Tenant)
	if err != nil {
		return err
	}
	conn.EntraTenant = t
	src, _, err := tenantconn.SecretSource{Reader: conn.Kube, Namespace: o.CredentialsNamespace}.Read(ctx, t)
	var credErr *tenantconn.ErrCredentials
	switch {
	case errors.As(err, &credErr):
		return fail("%v (the plugin reads Secrets in --credentials-namespace %s, which must be the operator's namespace)", credErr, o.CredentialsNamespace)
	case apierrors.IsForbidden(err):
		return fail("your kubeconfig may not read the credential Secret of EntraTenant %q in %s: use a read-only app with --credentials-from=%s (docs/entra-app.md) rather than the manager's credential", t.Name, o.CredentialsNamespace, FromAzidentity)
	case err != nil:
		return fail("%v: check that the cluster is reachable", err)
	}
	gc, err := tenantconn.NewGraphClient(t, src, tenantconn.Options{HTTPClient: o.HTTPClient, Limits: o.Limits, Throttles: conn.Throttles, UserAgent: userAgent})
	if err != nil {
		if src.WorkloadIdentity {
			return fail("EntraTenant %q uses workload identity, which needs the operator's projected token: run with --credentials-from=%s (az login or AZURE_* variables)", t.Name, FromAzidentity)
		}
		return fail("%v", err)
	}
	conn.Graph, conn.TenantID = gc, t.Spec.TenantID
	return nil
}

// connectFromAzidentity uses ReadOnlyChain against the tenant's cloud; tenant id and cloud
// come from the flags, else from the EntraTenant when the cluster has it.
func connectFromAzidentity(ctx context.Context, conn *Conn, o Options) error {
	if conn.Kube != nil && (o.TenantID == "" || o.Cloud == "") {
		if t, err := getTenant(ctx, conn.Kube, o.Tenant); err == nil {
			conn.EntraTenant = t
			o.TenantID = cmp.Or(o.TenantID, t.Spec.TenantID)
			if o.Cloud == "" {
				o.Cloud, o.AuthorityHost, o.GraphEndpoint = string(t.Spec.Cloud), t.Spec.AuthorityHost, t.Spec.GraphEndpoint
			}
		}
	}
	if o.TenantID == "" {
		return fail("set --tenant-id to the Entra tenant's GUID (or let the plugin read it from EntraTenant %q with a working kubeconfig)", o.Tenant)
	}
	cloud := graph.Cloud(cmp.Or(o.Cloud, string(graph.CloudGlobal)))
	ep, err := graph.EndpointsFor(cloud, o.AuthorityHost, o.GraphEndpoint)
	if err != nil {
		return fail("%v: fix --cloud, --authority-host or --graph-endpoint", err)
	}
	co := azcore.ClientOptions{Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: ep.AuthorityHost}}
	if o.HTTPClient != nil {
		co.Transport = o.HTTPClient
	}
	cred, err := ReadOnlyChain(o.TenantID, co, cloud == graph.CloudCustom)
	if err != nil {
		return fail("no Azure credential found (%v): run az login, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET of the read-only app (docs/entra-app.md)", err)
	}
	return conn.build(o.TenantID, cloud, ep, cred, o)
}

// ReadOnlyChain is the plugin's default credential: the first of
//
//   - EnvironmentCredential: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or
//     AZURE_CLIENT_CERTIFICATE_PATH) of the read-only app, for scripts and CI;
//   - WorkloadIdentityCredential: a pod's federated service account token
//     (AZURE_FEDERATED_TOKEN_FILE), for a CronJob that reports;
//   - AzureCLICredential: the person's own az login, for a laptop;
//
// that is configured. It is azidentity's DefaultAzureCredential without the managed identity
// (and the developer tools beyond az): on an Azure VM or an AKS node, a managed identity is
// the machine's, not the person's, may well hold write rights (the node a manager runs on),
// and is picked up silently; every credential in this chain is one somebody chose to
// present. Being explicit also keeps the chain from changing with azidentity's releases or
// AZURE_TOKEN_CREDENTIALS. A credential whose variables are absent is left out; the chain
// moves on only when a credential is unavailable, and stops at one that was refused.
func ReadOnlyChain(tenantID string, co azcore.ClientOptions, disableInstanceDiscovery bool) (azcore.TokenCredential, error) {
	var creds []azcore.TokenCredential
	if c, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
		ClientOptions: co, DisableInstanceDiscovery: disableInstanceDiscovery}); err == nil {
		creds = append(creds, c)
	}
	if c, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: co, DisableInstanceDiscovery: disableInstanceDiscovery, TenantID: tenantID}); err == nil {
		creds = append(creds, c)
	}
	cli, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenantID})
	if err != nil {
		return nil, err
	}
	creds = append(creds, cli)
	return azidentity.NewChainedTokenCredential(creds, nil)
}

func (conn *Conn) build(tenantID string, cloud graph.Cloud, ep graph.Endpoints, cred azcore.TokenCredential, o Options) error {
	c, err := graph.NewClient(graph.Config{TenantID: tenantID, Cloud: cloud, Endpoints: ep, Credential: cred,
		HTTPClient: o.HTTPClient, Limits: o.Limits, Throttles: conn.Throttles,
		UserAgent: userAgent})
	if err != nil {
		return fail("%v: check the tenant's cloud and endpoints", err)
	}
	conn.Graph, conn.TenantID = c, tenantID
	return nil
}

func getTenant(ctx context.Context, kube client.Client, name string) (*identityv1alpha1.EntraTenant, error) {
	var t identityv1alpha1.EntraTenant
	err := kube.Get(ctx, types.NamespacedName{Name: name}, &t)
	switch {
	case err == nil:
		return &t, nil
	case apierrors.IsNotFound(err):
		return nil, fail("EntraTenant %q not found in the cluster: check --tenant and --context (kubectl get entratenants)", name)
	case apierrors.IsForbidden(err):
		return nil, fail("your kubeconfig may not read EntraTenant %q: ask for get on entratenants.identity.phoneop.dev, or use --credentials-from=%s", name, FromAzidentity)
	}
	return nil, fail("reading EntraTenant %q failed (%v): check that the cluster is reachable with this kubeconfig", name, err)
}

// Explain turns a Graph error into one sentence that says what to do. Errors are
// internal/graph's: they never carry a body, a message or a number.
func Explain(err error, what string) string {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return fmt.Sprintf("%s failed: %v", what, err)
	}
	switch ge.Class {
	case graph.Forbidden:
		return fmt.Sprintf("%s: Graph refused it (%s): grant the app registration the permission it needs (%s) with admin consent, or use an identity that has it", what, ge.Error(), permissionFor(ge.Op))
	case graph.Unauthorized:
		return fmt.Sprintf("%s: no credentials were accepted (%s): az login, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET of the read-only app (docs/entra-app.md); with --credentials-from=%s, check the EntraTenant's Secret", what, ge.Error(), FromManagerSecret)
	case graph.Throttled:
		return fmt.Sprintf("%s: Graph kept throttling the tenant (%s): rerun later (export --resume continues where it stopped) or lower --graph-requests-per-second", what, ge.Error())
	case graph.NotFound:
		return fmt.Sprintf("%s: Graph does not know it (%s): check the group id or user", what, ge.Error())
	case graph.Transient:
		return fmt.Sprintf("%s: Graph did not answer (%s): rerun (export --resume continues where it stopped)", what, ge.Error())
	}
	return fmt.Sprintf("%s: %s: check the flags", what, ge.Error())
}

func permissionFor(op string) string {
	switch {
	case strings.Contains(op, "Group"):
		return "GroupMember.Read.All"
	case strings.Contains(op, "AuthenticationMethods"):
		return "UserAuthenticationMethod.Read.All"
	case strings.Contains(op, "PhoneMethods"):
		return "UserAuthMethod-Phone.Read.All or UserAuthenticationMethod.Read.All"
	}
	return "User.Read.All"
}
