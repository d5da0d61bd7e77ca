package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/connect"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/progress"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
)

// baseTransport carries the plugin's HTTP requests; tests point it at the emulator's TLS
// server. The default transport trusts SSL_CERT_FILE, which is how the emulator is trusted
// outside tests.
var baseTransport http.RoundTripper = http.DefaultTransport

// common are the flags every command shares.
type common struct {
	conn connect.Options
	// kube are kubectl's own flags (--kubeconfig, --context, --namespace, --as, --server, …),
	// so that kubectl phoneop accepts what every kubectl plugin accepts.
	kube        *genericclioptions.ConfigFlags
	rps         float64
	concurrency int
	noProgress  bool
	// Selection (export, and report with --scope tenant).
	sel selection.Selection

	requests atomic.Int64 // Graph HTTP requests, token traffic excluded
}

func newRootCommand() *cobra.Command {
	return newRoot(&common{})
}

// newRoot builds the command tree on c, which the flags fill in.
func newRoot(c *common) *cobra.Command {
	root := &cobra.Command{
		Use:     "kubectl-phoneop",
		Version: graph.Version, // stamped by make plugin and make release
		Short:   "Export a tenant's phone methods to PhoneAuthMethods, and report who depends on phones alone",
		Long: `kubectl phoneop reads Microsoft Entra users' authentication methods through Microsoft Graph
(batched, through phoneop's per-tenant throttle) and never writes to Graph.

  export   write the users' existing phones as PhoneAuthMethods (ObserveOnly by default),
           numbers in Secrets in a separate directory, ready for Git and kubectl apply -k
  report   list the users whose only MFA methods are phones (at risk when Microsoft-provided
           SMS and voice end on 2027-02-01), counted per namespace and phone type

Credentials come from azidentity, by default: AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET
(or AZURE_CLIENT_CERTIFICATE_PATH) of a read-only app (UserAuthenticationMethod.Read.All and
User.Read.All; docs/entra-app.md says how to create it), a pod's workload identity, or your own
az login, in that order. --credentials-from=manager-secret reads the EntraTenant's Secret
instead: the manager's write credential, which can rewrite every phone of the directory; it
works, but a report should not need it. To trust a private CA (the Graph emulator), point
SSL_CERT_FILE at its certificate.

Exit codes: 0 done, 1 failed, 2 bad flags, 3 done but some users could not be read (rerun;
export --resume reads only those).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	f := root.PersistentFlags()
	f.StringVar(&c.conn.Tenant, "tenant", "", "name of the EntraTenant (required): exported objects name it in spec.tenantRef, and its tenant id and cloud are read from it when the cluster is reachable")
	f.StringVar(&c.conn.CredentialsFrom, "credentials-from", connect.FromAzidentity, "where the Graph credentials come from: azidentity (a read-only app's AZURE_* variables, workload identity, or az login) or manager-secret (the EntraTenant's Secret: the manager's write credential, which can rewrite every phone; discouraged, as export and report only read)")
	f.StringVar(&c.conn.CredentialsNamespace, "credentials-namespace", "phoneop-system", "namespace of the EntraTenants' credential Secrets (the operator's --credentials-namespace)")
	f.StringVar(&c.conn.TenantID, "tenant-id", "", "Entra tenant GUID, for --credentials-from=azidentity when the EntraTenant cannot be read from the cluster")
	f.StringVar(&c.conn.Cloud, "cloud", "", "Global, USGov, USGovDoD, China or Custom, for --credentials-from=azidentity without the EntraTenant (default Global)")
	f.StringVar(&c.conn.AuthorityHost, "authority-host", "", "login authority URL, with --cloud=Custom")
	f.StringVar(&c.conn.GraphEndpoint, "graph-endpoint", "", "Graph root URL (without /v1.0), with --cloud=Custom")
	c.kube = genericclioptions.NewConfigFlags(true)
	c.kube.AddFlags(f)
	// kubectl's --namespace is where export writes (read as given, not from the kubeconfig, so
	// that export still asks for it); report reads the tenant's PhoneAuthMethods of that
	// namespace, or of every namespace when it is not given.
	f.Lookup("namespace").Usage = namespaceUsage
	c.conn.Kube = c.kube
	f.Float64Var(&c.rps, "graph-requests-per-second", graph.DefaultLimits.RequestsPerSecond, "Graph requests per second for the tenant (each part of a $batch counts); Graph allows 350-800 per second depending on tenant size, shared with the operator")
	f.IntVar(&c.concurrency, "concurrency", 4, "batches of 20 users in flight at once")
	f.BoolVar(&c.noProgress, "no-progress", false, "print no progress (by default a bar on a terminal, a line every 5 % otherwise, on stderr)")
	root.AddCommand(newExportCommand(c), newReportCommand(c))
	return root
}

const namespaceUsage = "export: namespace of the PhoneAuthMethods and Secrets (required unless every line of --users-file names one); the EntraTenant must allow it. report: read only this namespace's PhoneAuthMethods (default: the tenant's in every namespace)"

// namespace is --namespace (-n) as given on the command line; "" when not given.
func (c *common) namespace() string {
	if c.kube == nil || c.kube.Namespace == nil {
		return ""
	}
	return *c.kube.Namespace
}

// selectionFlags adds --domain, --group and --users-file.
func (c *common) selectionFlags(cmd *cobra.Command, what string) {
	f := cmd.Flags()
	f.StringSliceVar(&c.sel.Domains, "domain", nil, what+" only users whose userPrincipalName is in this domain (repeatable or comma-separated); Graph serves it as an advanced query")
	f.StringVar(&c.sel.Group, "group", "", what+" only members of this group (object id), nested groups included; the app needs GroupMember.Read.All")
	f.StringVar(&c.sel.File, "users-file", "", what+" only the users in this file: one userPrincipalName per line, optionally followed by the namespace of its objects; # starts a comment")
}

// connect builds the Graph client (and the Kubernetes client when the kubeconfig works).
func (c *common) connect(ctx context.Context) (*connect.Conn, error) {
	if c.conn.Tenant == "" {
		return nil, usagef("set --tenant to the EntraTenant's name (kubectl get entratenants lists them)")
	}
	if c.rps <= 0 || c.concurrency <= 0 {
		return nil, usagef("--graph-requests-per-second and --concurrency must be positive")
	}
	if connect.UsesManagerSecret(c.conn.CredentialsFrom) {
		fmt.Fprintln(os.Stderr, "warning: using the manager's write credential (the EntraTenant's Secret), which can change every phone in the directory; export and report only read: use a read-only app instead (docs/entra-app.md)")
	}
	o := c.conn
	o.Limits = graph.Limits{RequestsPerSecond: c.rps, Burst: max(1, int(c.rps))}
	o.HTTPClient = &http.Client{Transport: countingTransport{base: baseTransport, n: &c.requests}}
	return connect.Connect(ctx, o)
}

// progressOut is where progress goes: stderr, as a bar when it is a terminal.
func (c *common) progressOut() (*os.File, bool) {
	if c.noProgress {
		return nil, false
	}
	return os.Stderr, progress.IsTerminal(os.Stderr)
}

// resolveUsers lists the selection, printing what it found.
func (c *common) resolveUsers(ctx context.Context, g *graph.Client) ([]selection.User, []selection.User, error) {
	if err := c.sel.Validate(); err != nil {
		return nil, nil, usagef("%v", err)
	}
	users, noUPN, err := selection.Resolve(ctx, g, c.sel)
	if err != nil {
		return nil, nil, fmt.Errorf("%s", connect.Explain(err, "listing "+c.sel.Describe()))
	}
	if !c.noProgress {
		fmt.Fprintf(os.Stderr, "found %d users (%s)\n", len(users), c.sel.Describe())
	}
	return users, noUPN, nil
}

// countingTransport counts Graph requests (not the login authority's).
type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/v1.0/") || strings.HasPrefix(r.URL.Path, "/beta/") {
		t.n.Add(1)
	}
	return t.base.RoundTrip(r)
}
