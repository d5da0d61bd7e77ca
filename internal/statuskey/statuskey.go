package statuskey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SecretName is the Secret in the manager's namespace that holds the key; the manager's Role
// may get only this name.
const SecretName = "phoneop-status-key"

// DataKey is the key's entry in the Secret.
const DataKey = "key"

// keyBytes is the length of a key LoadOrCreate generates: HMAC-SHA256's block-sized strength.
const keyBytes = 32

// SumHexLen is the length of a Sum: 64 bits of HMAC-SHA256, in hex. Without the key nothing
// can be brute-forced, so the length only has to keep an object's few recorded writes apart
// (a collision would at worst stop one write), and fit status.writeGuard (16 characters).
const SumHexLen = 16

// Key keys the hashes phoneop writes into status.
type Key []byte

// Sum is the keyed hash of s: HMAC-SHA256 truncated to SumHexLen hex characters.
func (k Key) Sum(s string) string {
	m := hmac.New(sha256.New, k)
	_, _ = m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))[:SumHexLen]
}

// LoadOrCreate reads the key from the Secret SecretName in namespace, creating the Secret with
// a new random key when there is none. Two replicas starting at once both end up with the key
// that was created first.
func LoadOrCreate(ctx context.Context, c client.Client, namespace string) (Key, error) {
	key, err := load(ctx, c, namespace)
	if !apierrors.IsNotFound(err) {
		return key, err
	}
	fresh := make([]byte, keyBytes)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretName, Namespace: namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "phoneop"}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{DataKey: fresh},
	}
	err = c.Create(ctx, secret)
	switch {
	case err == nil:
		return fresh, nil
	case apierrors.IsAlreadyExists(err):
		return load(ctx, c, namespace) // another replica was first
	default:
		return nil, fmt.Errorf("creating the status key Secret %s/%s (the manager's Role must allow creating it): %w", namespace, SecretName, err)
	}
}

// load reads the key; a Secret that exists but holds no usable key is an error, not a reason
// to replace it silently.
func load(ctx context.Context, c client.Reader, namespace string) (Key, error) {
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: SecretName}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the status key Secret %s/%s: %w", namespace, SecretName, err)
	}
	key := s.Data[DataKey]
	if len(key) < keyBytes {
		return nil, fmt.Errorf("the status key Secret %s/%s holds no %d-byte %q entry; delete it and restart the manager to create a new key", namespace, SecretName, keyBytes, DataKey)
	}
	return key, nil
}
