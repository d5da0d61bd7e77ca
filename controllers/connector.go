package controllers

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	// credential and scope let the tenant reconciler prove the credentials work.
	credential azcore.TokenCredential
	scope      string
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

// ErrCredentials wraps every failure to build a connection: a missing Secret or key, an
// unparsable certificate. The message names what to fix.
type ErrCredentials struct{ msg string }

func (e *ErrCredentials) Error() string { return e.msg }

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
	c.mu.Lock()
	cached, ok := c.cache[t.UID]
	epoch := c.forgotten[t.UID]
	c.mu.Unlock()
	if ok && !reload && cached.generation == t.Generation && time.Since(cached.checkedAt) < c.RecheckAfter {
		return cached.conn, nil
	}
	src, secretRV, err := c.credentialSource(ctx, t)
	if err != nil {
		return nil, err
	}
	if ok && cached.generation == t.Generation && cached.secretRV == secretRV && c.remember(t, epoch, cachedConnection{conn: cached.conn, generation: t.Generation, secretRV: secretRV, checkedAt: time.Now()}) {
		return cached.conn, nil
	}
	conn, err := c.build(t, src)
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

// Verify obtains a token, proving that the credentials and the authority work.
func (c *Connection) Verify(ctx context.Context) error {
	_, err := c.credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	return err
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

func (c *Connector) build(t *identityv1alpha1.EntraTenant, src graph.CredentialSource) (*Connection, error) {
	cloud := graph.Cloud(t.Spec.Cloud)
	if cloud == "" {
		cloud = graph.CloudGlobal
	}
	ep, err := graph.EndpointsFor(cloud, t.Spec.AuthorityHost, t.Spec.GraphEndpoint)
	if err != nil {
		return nil, &ErrCredentials{msg: fmt.Sprintf("EntraTenant %q has unusable endpoints: %v", t.Name, err)}
	}
	cred, err := graph.NewCredential(t.Spec.TenantID, ep, src, c.HTTPClient)
	if err != nil {
		return nil, &ErrCredentials{msg: fmt.Sprintf("EntraTenant %q: the credentials could not be loaded (%v); fix the referenced Secret", t.Name, err)}
	}
	gc, err := graph.NewClient(graph.Config{
		TenantID: t.Spec.TenantID, Cloud: cloud, Endpoints: ep, Credential: cred,
		HTTPClient: c.HTTPClient, Limits: c.Limits, Throttles: c.Throttles,
	})
	if err != nil {
		return nil, &ErrCredentials{msg: fmt.Sprintf("EntraTenant %q: %v", t.Name, err)}
	}
	return &Connection{TenantID: t.Spec.TenantID, Cloud: cloud, Client: gc, credential: cred, scope: ep.Scope()}, nil
}

// credentialSource reads the tenant's credential from its Secret and returns it with the
// Secret's resourceVersion (empty for workload identity, which has no Secret).
func (c *Connector) credentialSource(ctx context.Context, t *identityv1alpha1.EntraTenant) (graph.CredentialSource, string, error) {
	creds := t.Spec.Credentials
	switch {
	case creds.WorkloadIdentity != nil:
		return graph.CredentialSource{ClientID: creds.WorkloadIdentity.ClientID, WorkloadIdentity: true}, "", nil
	case creds.ClientSecret != nil:
		value, rv, err := c.secretValue(ctx, t, creds.ClientSecret.SecretRef)
		if err != nil {
			return graph.CredentialSource{}, "", err
		}
		return graph.CredentialSource{ClientID: creds.ClientSecret.ClientID, ClientSecret: string(value)}, rv, nil
	case creds.ClientCertificate != nil:
		value, rv, err := c.secretValue(ctx, t, creds.ClientCertificate.SecretRef)
		if err != nil {
			return graph.CredentialSource{}, "", err
		}
		src := graph.CredentialSource{ClientID: creds.ClientCertificate.ClientID, CertificatePEMOrPFX: value}
		if ref := creds.ClientCertificate.PasswordRef; ref != nil {
			password, prv, err := c.secretValue(ctx, t, *ref)
			if err != nil {
				return graph.CredentialSource{}, "", err
			}
			src.CertificatePassword = string(password)
			rv += "/" + prv
		}
		return src, rv, nil
	}
	return graph.CredentialSource{}, "", &ErrCredentials{msg: fmt.Sprintf("EntraTenant %q sets no credentials; set one of spec.credentials.clientSecret, clientCertificate or workloadIdentity", t.Name)}
}

func (c *Connector) secretValue(ctx context.Context, t *identityv1alpha1.EntraTenant, ref identityv1alpha1.CredentialSecretReference) ([]byte, string, error) {
	var s corev1.Secret
	if err := c.Reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", &ErrCredentials{msg: fmt.Sprintf("EntraTenant %q: Secret %s/%s does not exist; create it in the operator's namespace", t.Name, c.Namespace, ref.Name)}
		}
		return nil, "", fmt.Errorf("reading Secret %s/%s of EntraTenant %q: %w", c.Namespace, ref.Name, t.Name, err)
	}
	value, ok := s.Data[ref.Key]
	if !ok || len(value) == 0 {
		return nil, "", &ErrCredentials{msg: fmt.Sprintf("EntraTenant %q: Secret %s/%s has no key %q; add it", t.Name, c.Namespace, ref.Name, ref.Key)}
	}
	return value, s.ResourceVersion, nil
}
