package graphemu

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// FederatedCredential is one of an app's federated identity credentials (Graph's
// federatedIdentityCredential): the app accepts, instead of a secret, a client assertion that
// Issuer signed for Subject with one of Audiences — for Kubernetes workload identity, a
// projected service account token (issuer = the cluster's service-account issuer, subject
// system:serviceaccount:<namespace>:<name>, audience api://AzureADTokenExchange).
// Entra matches issuer and subject case-sensitively, and so does the emulator.
type FederatedCredential struct {
	Name      string   `json:"name,omitempty"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// WorkloadIdentityAudience is the audience Entra expects in a federated assertion (and the
// one the Azure Workload Identity webhook projects).
const WorkloadIdentityAudience = "api://AzureADTokenExchange"

// federatedClaims are the claims of an external assertion the emulator checks.
type federatedClaims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub"`
	Aud audience `json:"aud"`
	Exp int64    `json:"exp"`
	Nbf int64    `json:"nbf"`
}

// audience is a JWT aud claim: one string or a list (Kubernetes sends a list).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// federated reports whether a client assertion comes from an external issuer rather than from
// the app itself (a certificate credential has iss = client_id). An assertion that cannot be
// read is left to the certificate path, which answers it as malformed.
func federated(assertion, clientID string) bool {
	parts := strings.Split(assertion, ".")
	var c federatedClaims
	if len(parts) != 3 || decodeSegment(parts[1], &c) != nil {
		return false
	}
	return c.Iss != clientID
}

// The refusals below carry the codes and messages Entra answers (as seen in
// azure-workload-identity and azure/login issue threads); aadsts50027 for a bad signature
// under a published key is the emulator's choice, Entra's exact code for it is not documented.
func errNoFederatedRecord(field, value string) *aadError {
	code := map[string]int{"issuer": 700211, "audience": 700212, "subject": 700213}[field]
	return &aadError{http.StatusUnauthorized, "invalid_client", code, fmt.Sprintf(
		"No matching federated identity record found for presented assertion %s '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation",
		field, value)}
}

// verifyFederated checks an external assertion as Entra does: a federated identity credential
// of the app must name its issuer, subject and an audience (in that order, each refusal naming
// what did not match), the issuer's published keys (OIDC discovery, then jwks_uri) must verify
// its signature, and it must be within its lifetime.
func (e *Emulator) verifyFederated(ctx context.Context, a *app, assertion string) *aadError {
	parts := strings.Split(assertion, ".")
	var h jwsHeader
	var c federatedClaims
	if len(parts) != 3 || decodeSegment(parts[0], &h) != nil || decodeSegment(parts[1], &c) != nil {
		return &aadError{http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."}
	}
	if len(a.FederatedCredentials) == 0 {
		return &aadError{http.StatusBadRequest, "invalid_request", 70021, fmt.Sprintf(
			"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.",
			c.Iss, c.Sub, strings.Join(c.Aud, ","))}
	}
	if ae := matchFederated(a.FederatedCredentials, c); ae != nil {
		return ae
	}
	keys, err := e.issuerKeys(ctx, c.Iss)
	if err != nil {
		return &aadError{http.StatusBadRequest, "invalid_request", 90061, "Request to External OIDC endpoint failed."}
	}
	key, ok := keys[h.Kid]
	if !ok {
		return &aadError{http.StatusUnauthorized, "invalid_client", 7000272, fmt.Sprintf(
			"The certificate with identifier %s used to sign the federated credential could not be found in the metadata of identity provider %s. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.",
			h.Kid, c.Iss)}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || !verifySig(key, h.Alg, digest[:], sig) {
		return &aadError{http.StatusUnauthorized, "invalid_client", 50027, "Invalid JWT token. Token signature validation failed."}
	}
	now := e.now()
	if now.After(time.Unix(c.Exp, 0).Add(clockSkew)) || (c.Nbf != 0 && now.Add(clockSkew).Before(time.Unix(c.Nbf, 0))) {
		return &aadError{http.StatusUnauthorized, "invalid_client", 700024, fmt.Sprintf(
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
			now.UTC().Format(time.RFC3339), time.Unix(c.Nbf, 0).UTC().Format(time.RFC3339), time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))}
	}
	return nil
}

// matchFederated finds a credential for the assertion's issuer, then subject, then audience;
// the refusal names the first field no credential matched.
func matchFederated(creds []FederatedCredential, c federatedClaims) *aadError {
	byIssuer := filter(creds, func(fc FederatedCredential) bool { return fc.Issuer == c.Iss })
	if len(byIssuer) == 0 {
		return errNoFederatedRecord("issuer", c.Iss)
	}
	bySubject := filter(byIssuer, func(fc FederatedCredential) bool { return fc.Subject == c.Sub })
	if len(bySubject) == 0 {
		return errNoFederatedRecord("subject", c.Sub)
	}
	for _, fc := range bySubject {
		for _, aud := range c.Aud {
			if slices.Contains(fc.Audiences, aud) {
				return nil
			}
		}
	}
	return errNoFederatedRecord("audience", strings.Join(c.Aud, ","))
}

func filter(creds []FederatedCredential, keep func(FederatedCredential) bool) []FederatedCredential {
	var out []FederatedCredential
	for _, fc := range creds {
		if keep(fc) {
			out = append(out, fc)
		}
	}
	return out
}

// jwsHeader is the JOSE header of an external assertion: the key id names the issuer's key.
type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// jwk is one key of a JSON Web Key Set (RFC 7517): RSA or P-256 public keys.
type jwk struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// issuerKeys fetches the issuer's OIDC discovery document and the key set it points at, by key
// id. Fetched per token request: tokens are cached by clients for an hour, so this is rare, and
// a rotated key is seen at once.
func (e *Emulator) issuerKeys(ctx context.Context, issuer string) (map[string]any, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := e.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, err
	}
	if disc.Issuer != issuer || disc.JWKSURI == "" {
		return nil, fmt.Errorf("discovery document names issuer %q", disc.Issuer)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := e.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return nil, err
	}
	keys := map[string]any{}
	for _, k := range set.Keys {
		if pub, err := k.publicKey(); err == nil {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}

func (e *Emulator) getJSON(ctx context.Context, url string, out any) error {
	client := e.opts.IssuerClient
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

func (k jwk) publicKey() (any, error) {
	b := func(s string) (*big.Int, error) {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		return new(big.Int).SetBytes(raw), err
	}
	switch k.Kty {
	case "RSA":
		n, err := b(k.N)
		if err != nil {
			return nil, err
		}
		exp, err := b(k.E)
		if err != nil {
			return nil, err
		}
		return &rsa.PublicKey{N: n, E: int(exp.Int64())}, nil
	case "EC":
		if k.Crv != "P-256" {
			return nil, fmt.Errorf("curve %s", k.Crv)
		}
		x, err := b(k.X)
		if err != nil {
			return nil, err
		}
		y, err := b(k.Y)
		if err != nil {
			return nil, err
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
	}
	return nil, fmt.Errorf("key type %s", k.Kty)
}
