package tenantconn

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// ErrCredentials wraps every failure to build a connection that a person must fix: a missing
// Secret or key, an unparsable certificate, unusable endpoints. The message names what to fix.
// A failed API-server read is not an ErrCredentials (retrying may help).
type ErrCredentials struct {
	// Reason is the condition reason to report, when the refusal has one of its own; ""
	// means CredentialsInvalid.
	Reason string
	// Message is the whole error text.
	Message string
}

func (e *ErrCredentials) Error() string { return e.Message }

func credentialsErrorf(format string, args ...any) error {
	return &ErrCredentials{Message: fmt.Sprintf(format, args...)}
}

// SecretSource reads EntraTenants' credentials. Secrets are read only from Namespace (the
// operator's own), never from application namespaces.
type SecretSource struct {
	// Reader reads the Secrets. The manager passes an uncached reader, so that it never
	// caches every Secret of the cluster; the plugin passes its kubeconfig's client.
	Reader client.Reader
	// Namespace holds the credential Secrets.
	Namespace string
}

// Read returns the tenant's credential with the resourceVersions of the Secrets it read
// ("rv" or "rv/passwordRV"; empty for workload identity, which has no Secret), so that a
// cache notices a rotated credential.
func (s SecretSource) Read(ctx context.Context, t *identityv1alpha1.EntraTenant) (graph.CredentialSource, string, error) {
	creds := t.Spec.Credentials
	src := graph.CredentialSource{ClientID: creds.ClientID()}
	if creds.WorkloadIdentity != nil {
		src.WorkloadIdentity = true
		return src, "", nil
	}
	refs := creds.SecretRefs()
	if len(refs) == 0 {
		return graph.CredentialSource{}, "", credentialsErrorf("EntraTenant %q sets no credentials; set one of spec.credentials.clientSecret, clientCertificate or workloadIdentity", t.Name)
	}
	values := make([][]byte, len(refs))
	var rv string
	for i, ref := range refs {
		value, refRV, err := s.secretValue(ctx, t, ref)
		if err != nil {
			return graph.CredentialSource{}, "", err
		}
		values[i] = value
		if i > 0 {
			rv += "/"
		}
		rv += refRV
	}
	if creds.ClientSecret != nil {
		src.ClientSecret = string(values[0])
		return src, rv, nil
	}
	src.CertificatePEMOrPFX = values[0]
	if len(values) > 1 {
		src.CertificatePassword = string(values[1])
	}
	return src, rv, nil
}

func (s SecretSource) secretValue(ctx context.Context, t *identityv1alpha1.EntraTenant, ref identityv1alpha1.CredentialSecretReference) ([]byte, string, error) {
	var secret corev1.Secret
	if err := s.Reader.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: ref.Name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", credentialsErrorf("EntraTenant %q: Secret %s/%s does not exist; create it in the operator's namespace", t.Name, s.Namespace, ref.Name)
		}
		return nil, "", fmt.Errorf("reading Secret %s/%s of EntraTenant %q: %w", s.Namespace, ref.Name, t.Name, err)
	}
	value, ok := secret.Data[ref.Key]
	if !ok || len(value) == 0 {
		return nil, "", credentialsErrorf("EntraTenant %q: Secret %s/%s has no key %q; add it", t.Name, s.Namespace, ref.Name, ref.Key)
	}
	return value, secret.ResourceVersion, nil
}
