package tenantconn

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// Connection is a usable connection to one tenant.
type Connection struct {
	// TenantID is the Entra tenant id (the key of Graph's throttling and our caches).
	TenantID string
	// Cloud decides whether SMS sign-in can be managed.
	Cloud graph.Cloud
	// Client calls Graph for the tenant; graph.API states the contract (reads never write, an
	// ambiguous create is re-read, never re-posted).
	Client graph.API
	// Roles reads who holds directory roles (the privileged-user guard, internal/privileged);
	// nil means unknown, and the guard then refuses every user.
	Roles graph.RoleReader
	// Users pages the tenant's users (the user cache's directory fill); nil means users are
	// looked up one by one.
	Users graph.UserLister
	// credential and scope let the tenant reconciler prove the credentials work.
	credential azcore.TokenCredential
	scope      string
}

// Verify obtains a token, proving that the credentials and the authority work.
func (c *Connection) Verify(ctx context.Context) error {
	_, err := c.credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	return err
}

// Options are what a Graph client needs besides the tenant and its credential.
type Options struct {
	// HTTPClient carries token and Graph requests; nil means the default transport. Tests
	// pass one that trusts the Graph emulator's certificate.
	HTTPClient *http.Client
	// Limits bound the tenant's Graph request rate and retries.
	Limits graph.Limits
	// Throttles is the per-tenant throttling registry; nil means graph.DefaultThrottles.
	Throttles *graph.Throttles
	// UserAgent overrides internal/graph's "phoneop/<Version>".
	UserAgent string
}

// Dial builds the connection to t with the credential src: the endpoints of the tenant's cloud
// (Global when unset), a token credential and internal/graph's client. It makes no request.
func Dial(t *identityv1alpha1.EntraTenant, src graph.CredentialSource, o Options) (*Connection, error) {
	gc, cred, ep, err := dial(t, src, o)
	if err != nil {
		return nil, err
	}
	return &Connection{TenantID: t.Spec.TenantID, Cloud: cloudOf(t), Client: gc, Roles: gc, Users: gc, credential: cred, scope: ep.Scope()}, nil
}

// NewGraphClient is Dial for a caller that needs the concrete client (the plugin's batched
// reads) rather than a Connection.
func NewGraphClient(t *identityv1alpha1.EntraTenant, src graph.CredentialSource, o Options) (*graph.Client, error) {
	gc, _, _, err := dial(t, src, o)
	return gc, err
}

func dial(t *identityv1alpha1.EntraTenant, src graph.CredentialSource, o Options) (*graph.Client, azcore.TokenCredential, graph.Endpoints, error) {
	cloud := cloudOf(t)
	ep, err := graph.EndpointsFor(cloud, t.Spec.AuthorityHost, t.Spec.GraphEndpoint)
	if err != nil {
		return nil, nil, ep, credentialsErrorf("EntraTenant %q has unusable endpoints: %v", t.Name, err)
	}
	cred, err := graph.NewCredential(t.Spec.TenantID, ep, src, o.HTTPClient)
	if err != nil {
		return nil, nil, ep, credentialsErrorf("EntraTenant %q: the credentials could not be loaded (%v); fix the referenced Secret", t.Name, err)
	}
	gc, err := graph.NewClient(graph.Config{
		TenantID: t.Spec.TenantID, Cloud: cloud, Endpoints: ep, Credential: cred,
		HTTPClient: o.HTTPClient, Limits: o.Limits, Throttles: o.Throttles, UserAgent: o.UserAgent,
	})
	if err != nil {
		return nil, nil, ep, credentialsErrorf("EntraTenant %q: %v", t.Name, err)
	}
	return gc, cred, ep, nil
}

// cloudOf is the tenant's cloud, Global when spec.cloud is unset.
func cloudOf(t *identityv1alpha1.EntraTenant) graph.Cloud {
	if t.Spec.Cloud == "" {
		return graph.CloudGlobal
	}
	return graph.Cloud(t.Spec.Cloud)
}

// Connector turns EntraTenants into Connections, caching one per tenant until the tenant's spec
// or its credential Secret changes. Credentials are read only from Namespace (the operator's
// own), never from application namespaces.
type Connector struct {
	// Reader reads credential Secrets; an uncached reader, so that the manager never caches
	// every Secret of the cluster.
	Reader client.Reader
	// Namespace holds the credential Secrets.
	Namespace string
	// HTTPClient carries token and Graph requests; nil means the default transport. Tests
	// pass one that trusts the Graph emulator's certificate.
	HTTPClient *http.Client
	// Limits bound each tenant's Graph request rate and retries.
	Limits graph.Limits
	// Throttles is the per-tenant throttling registry; nil means graph.DefaultThrottles.
	Throttles *graph.Throttles
	// RecheckAfter is how often a cached connection re-reads its Secret's resourceVersion to
	// notice a rotated credential.
	RecheckAfter time.Duration
	// AllowCustomCloud lets EntraTenants with cloud Custom connect (--allow-custom-cloud).
	// Custom names its own token and Graph endpoints, so without this switch anyone who may
	// edit an EntraTenant could send its client secret, or the pod's federated token, to any
	// https endpoint. Off in every install; on for the Graph emulator and private clouds.
	AllowCustomCloud bool

	mu    sync.Mutex
	cache map[types.UID]cachedConnection
	// forgotten counts Forget calls per tenant, so that a connect that started before a Forget
	// cannot put the forgotten connection back when it finishes.
	forgotten map[types.UID]uint64
}

type cachedConnection struct {
	conn       *Connection
	generation int64
	secretRV   string
	checkedAt  time.Time
}

// Connect returns the tenant's connection, building it when the tenant or its Secret changed.
// The Secret is re-read at most every RecheckAfter; Reload re-reads it now.
func (c *Connector) Connect(ctx context.Context, t *identityv1alpha1.EntraTenant) (*Connection, error) {
	return c.connect(ctx, t, false)
}

// Reload is Connect with a fresh read of the credential Secret: the tenant reconciler calls it
// when the tenant or its Secret changes, so a rotated credential takes effect at once. The
// connection (and its token cache) is kept when the Secret did not change.
func (c *Connector) Reload(ctx context.Context, t *identityv1alpha1.EntraTenant) (*Connection, error) {
	return c.connect(ctx, t, true)
}

func (c *Connector) connect(ctx context.Context, t *identityv1alpha1.EntraTenant, reload bool) (*Connection, error) {
	if t.Spec.Cloud == identityv1alpha1.CloudCustom && !c.AllowCustomCloud {
		return nil, &ErrCredentials{Reason: identityv1alpha1.ReasonCustomCloudRefused, Message: fmt.Sprintf(
			"EntraTenant %q uses cloud Custom, which would send its credential to the endpoints it names, and this manager refuses Custom clouds; use a public or national cloud, or start the manager with --allow-custom-cloud (Helm allowCustomCloud) for the Graph emulator or a private cloud", t.Name)}
	}
	c.mu.Lock()
	cached, ok := c.cache[t.UID]
	epoch := c.forgotten[t.UID]
	c.mu.Unlock()
	if ok && !reload && cached.generation == t.Generation && time.Since(cached.checkedAt) < c.RecheckAfter {
		return cached.conn, nil
	}
	src, secretRV, err := SecretSource{Reader: c.Reader, Namespace: c.Namespace}.Read(ctx, t)
	if err != nil {
		return nil, err
	}
	if ok && cached.generation == t.Generation && cached.secretRV == secretRV && c.remember(t, epoch, cachedConnection{conn: cached.conn, generation: t.Generation, secretRV: secretRV, checkedAt: time.Now()}) {
		return cached.conn, nil
	}
	conn, err := Dial(t, src, Options{HTTPClient: c.HTTPClient, Limits: c.Limits, Throttles: c.Throttles})
	if err != nil {
		return nil, err
	}
	c.remember(t, epoch, cachedConnection{conn: conn, generation: t.Generation, secretRV: secretRV, checkedAt: time.Now()})
	return conn, nil
}

// Forget drops a tenant's cached connection, e.g. after Graph answered 401, so that the next
// Connect reloads the credentials.
func (c *Connector) Forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, uid)
	if c.forgotten == nil {
		c.forgotten = map[types.UID]uint64{}
	}
	c.forgotten[uid]++
}

// remember caches e unless the tenant was forgotten since epoch was read; it reports whether
// it did. A new connection is still used by its caller, it is just not kept.
func (c *Connector) remember(t *identityv1alpha1.EntraTenant, epoch uint64, e cachedConnection) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgotten[t.UID] != epoch {
		return false
	}
	if c.cache == nil {
		c.cache = map[types.UID]cachedConnection{}
	}
	c.cache[t.UID] = e
	return true
}
