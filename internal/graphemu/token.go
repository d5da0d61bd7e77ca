package graphemu

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition (RFC 7515)
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	clockSkew     = 5 * time.Minute
)

// tokenClaims is the payload of the access tokens the emulator issues
// (HS256 JWTs signed with a per-emulator key, shaped like Entra's v1 app
// tokens so a curious client can decode tid, appid and roles).
type tokenClaims struct {
	Aud      string   `json:"aud"`
	Iss      string   `json:"iss"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
	TenantID string   `json:"tid"`
	AppID    string   `json:"appid"`
	Roles    []string `json:"roles"`
	IDType   string   `json:"idtyp"`
	Jti      string   `json:"uti"`
	Ver      string   `json:"ver"`
}

// serveLogin answers the login authority's endpoints and returns the route
// template and, for the per-tenant endpoints, the tenant in the path.
func (e *Emulator) serveLogin(w http.ResponseWriter, r *http.Request) served {
	w.Header().Set("x-ms-request-id", uuid.NewString())
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	eq := strings.EqualFold
	switch {
	case len(segs) == 3 && eq(segs[0], "common") && eq(segs[1], "discovery") && eq(segs[2], "instance"):
		e.instanceDiscovery(w, r)
		return served{route: RouteInstDiscov}
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration":
		e.openIDConfiguration(w, r, segs[0])
		return served{route: RouteOpenIDConf, tenant: segs[0]}
	case len(segs) == 4 && eq(segs[1], "oauth2") && segs[2] == "v2.0" && eq(segs[3], "token"):
		e.token(w, r, segs[0])
		return served{route: RouteToken, tenant: segs[0]}
	}
	e.writeAADError(w, r, http.StatusNotFound, "invalid_request", 90002, "The requested endpoint was not found.")
	return served{route: RouteLoginOther}
}

// authority is the https (or http, when served without TLS) origin the
// client used, so discovery documents point back at this emulator.
func authority(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// instanceDiscovery answers MSAL's AAD instance discovery with this host
// as the only alias.
func (e *Emulator) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	tenantID := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if u, err := url.Parse(ae); err == nil && u.Host != "" {
			parts := strings.Split(strings.Trim(u.Path, "/"), "/")
			tenantID = parts[0]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": authority(r) + "/" + tenantID + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

// openIDConfiguration is the tenant's OIDC discovery document: azidentity
// needs token_endpoint, authorization_endpoint and an issuer on this host.
func (e *Emulator) openIDConfiguration(w http.ResponseWriter, r *http.Request, tenantID string) {
	if !e.hasTenant(tenantID) {
		e.writeAADError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID.", tenantID))
		return
	}
	base := authority(r) + "/" + tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              authority(r) + "/" + tenantID + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "emulator",
	})
}

func (e *Emulator) hasTenant(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.tenants[lower(id)]
	return ok
}

// aadError is a token endpoint failure in Entra's OAuth2 error format.
type aadError struct {
	status int
	code   string
	aadsts int
	desc   string
}

func (e *Emulator) writeAADError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, desc string) {
	trace := w.Header().Get("x-ms-request-id")
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = uuid.NewString()
	}
	ts := e.now().UTC().Format("2006-01-02 15:04:05Z")
	w.Header().Set("client-request-id", corr)
	writeJSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, desc, trace, corr, ts),
		"error_codes":    []int{aadsts},
		"timestamp":      ts,
		"trace_id":       trace,
		"correlation_id": corr,
	})
}

// token is the client-credentials grant.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request, tenantID string) {
	claims, ae := e.grant(r, tenantID)
	if ae != nil {
		e.writeAADError(w, r, ae.status, ae.code, ae.aadsts, ae.desc)
		return
	}
	ttl := int(e.opts.TokenTTL / time.Second)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": e.sign(claims),
	})
}

// grant validates a client-credentials request and returns the claims of
// the token to issue.
func (e *Emulator) grant(r *http.Request, tenantID string) (*tokenClaims, *aadError) {
	if r.Method != http.MethodPost {
		return nil, &aadError{http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST requests."}
	}
	if err := r.ParseForm(); err != nil {
		return nil, &aadError{http.StatusBadRequest, "invalid_request", 900144, "The request body must be form encoded."}
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		return nil, &aadError{http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '" + gt + "'."}
	}
	clientID, basicSecret, hasBasic := r.BasicAuth()
	if !hasBasic {
		clientID = f.Get("client_id")
	}
	if clientID == "" {
		return nil, &aadError{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."}
	}
	resource, ae := defaultScope(f.Get("scope"))
	if ae != nil {
		return nil, ae
	}
	a, t, ae := e.findApp(tenantID, clientID)
	if ae != nil {
		return nil, ae
	}
	secret := f.Get("client_secret")
	if hasBasic {
		secret = basicSecret
	}
	if ae := e.checkCredential(r, a, t.id, clientID, secret); ae != nil {
		return nil, ae
	}
	now := e.now()
	return &tokenClaims{
		Aud: resource, Iss: "https://sts.windows.net/" + t.id + "/", Iat: now.Unix(), Nbf: now.Unix(),
		Exp: now.Add(e.opts.TokenTTL).Unix(), TenantID: t.id, AppID: a.ClientID,
		Roles: append([]string{}, a.Permissions...), IDType: "app", Jti: uuid.NewString(), Ver: "1.0",
	}, nil
}

// defaultScope accepts any scope list with one "<resource>/.default" entry
// (azidentity adds openid, offline_access and profile) and returns the
// resource.
func defaultScope(scope string) (string, *aadError) {
	if scope == "" {
		return "", &aadError{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."}
	}
	for _, s := range strings.Fields(scope) {
		if res, ok := strings.CutSuffix(s, "/.default"); ok && res != "" {
			return res, nil
		}
	}
	return "", &aadError{http.StatusBadRequest, "invalid_scope", 1002012,
		"The provided value for scope " + scope + " is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."}
}

// findApp looks up the tenant and the app registered in it.
func (e *Emulator) findApp(tenantID, clientID string) (*app, *tenant, *aadError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(tenantID)]
	if !ok {
		return nil, nil, &aadError{http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID.", tenantID)}
	}
	a, ok := t.apps[lower(clientID)]
	if !ok {
		return nil, nil, &aadError{http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, t.id)}
	}
	return a, t, nil
}

// checkCredential verifies the client secret or the client assertion.
func (e *Emulator) checkCredential(r *http.Request, a *app, tenantID, clientID, secret string) *aadError {
	f := r.PostForm
	switch {
	case secret != "":
		if a.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.ClientSecret)) != 1 {
			return &aadError{http.StatusUnauthorized, "invalid_client", 7000215,
				"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."}
		}
		return nil
	case f.Get("client_assertion") != "":
		if f.Get("client_assertion_type") != assertionType {
			return &aadError{http.StatusBadRequest, "invalid_request", 900144, "client_assertion_type must be " + assertionType + "."}
		}
		assertion := f.Get("client_assertion")
		// A certificate credential's assertion is issued by the app itself (iss = sub =
		// client_id); anything else is a token from an external issuer that only a
		// federated identity credential can accept, as Entra decides.
		if federated(assertion, clientID) {
			return e.verifyFederated(r.Context(), a, assertion)
		}
		return verifyAssertion(a, assertion, tenantID, clientID, e.now())
	}
	return &aadError{http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

// assertionHeader is the JOSE header of a client assertion.
type assertionHeader struct {
	Alg     string `json:"alg"`
	X5t     string `json:"x5t"`
	X5tS256 string `json:"x5t#S256"`
}

type assertionClaims struct {
	Aud string  `json:"aud"`
	Iss string  `json:"iss"`
	Sub string  `json:"sub"`
	Exp float64 `json:"exp"`
	Nbf float64 `json:"nbf"`
}

// verifyAssertion checks a private_key_jwt client assertion (RS256, PS256
// or ES256) against the app's certificates, and its iss/sub/aud/time.
func verifyAssertion(a *app, jwt, tenantID, clientID string, now time.Time) *aadError {
	bad := func(code int, msg string) *aadError {
		return &aadError{http.StatusUnauthorized, "invalid_client", code, msg}
	}
	parts := strings.Split(jwt, ".")
	var h assertionHeader
	var c assertionClaims
	if len(parts) != 3 || decodeSegment(parts[0], &h) != nil || decodeSegment(parts[1], &c) != nil {
		return bad(50027, "JWT token is invalid or malformed.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !verifyWithAny(a.certs, h, parts[0]+"."+parts[1], sig) {
		return bad(700027, "Client assertion failed signature validation.")
	}
	if c.Iss != clientID || c.Sub != clientID {
		return bad(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
	}
	if !audienceOK(c.Aud, tenantID) {
		return bad(700212, "No matching federated identity record found for presented assertion audience '"+c.Aud+"'.")
	}
	if now.After(time.Unix(int64(c.Exp), 0).Add(clockSkew)) || now.Add(clockSkew).Before(time.Unix(int64(c.Nbf), 0)) {
		return bad(700024, "Client assertion is not within its valid time range.")
	}
	return nil
}

// audienceOK accepts the tenant's token endpoint (v2 or v1) or issuer on
// any host: the emulator may sit behind any name.
func audienceOK(aud, tenantID string) bool {
	u, err := url.Parse(aud)
	if err != nil {
		return false
	}
	p := strings.ToLower(strings.TrimSuffix(u.Path, "/"))
	t := "/" + strings.ToLower(tenantID)
	return p == t+"/oauth2/v2.0/token" || p == t+"/oauth2/token" || p == t+"/v2.0"
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// verifyWithAny tries each certificate whose thumbprint matches the header
// (all of them when the header names none).
func verifyWithAny(certs []*x509.Certificate, h assertionHeader, input string, sig []byte) bool {
	digest := sha256.Sum256([]byte(input))
	for _, c := range certs {
		if !thumbprintMatches(c, h) {
			continue
		}
		if verifySig(c.PublicKey, h.Alg, digest[:], sig) {
			return true
		}
	}
	return false
}

func thumbprintMatches(c *x509.Certificate, h assertionHeader) bool {
	s1 := sha1.Sum(c.Raw) //nolint:gosec // x5t is defined as SHA-1
	s256 := sha256.Sum256(c.Raw)
	switch {
	case h.X5tS256 != "":
		return b64Equal(h.X5tS256, s256[:])
	case h.X5t != "":
		return b64Equal(h.X5t, s1[:])
	}
	return true
}

// b64Equal compares a thumbprint sent in standard (MSAL) or URL base64.
func b64Equal(s string, want []byte) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && hmac.Equal(b, want) {
			return true
		}
	}
	return false
}

func verifySig(pub any, alg string, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "RS256":
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil
		case "PS256":
			return rsa.VerifyPSS(k, crypto.SHA256, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		}
	case *ecdsa.PublicKey:
		if alg == "ES256" && len(sig) == 64 {
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(k, digest, r, s)
		}
	}
	return false
}

// sign encodes claims as an HS256 JWT with the emulator's key.
func (e *Emulator) sign(c *tokenClaims) string {
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(c)
	input := hdr + "." + base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, e.tokKey)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func errInvalidToken(msg string) *graphError {
	ge := gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
	ge.header = map[string]string{"WWW-Authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}
	return ge
}

// verifiedClaims returns the claims of the request's bearer token if this
// emulator signed it, whether or not it is still valid.
func (e *Emulator) verifiedClaims(r *http.Request) (*tokenClaims, *graphError) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return nil, errInvalidToken("Access token is empty.")
	}
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		return nil, errInvalidToken("IDX14100: JWT is not well formed, there are no dots (.).")
	}
	mac := hmac.New(sha256.New, e.tokKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	var c tokenClaims
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) || decodeSegment(parts[1], &c) != nil {
		return nil, errInvalidToken("Access token validation failure. Invalid signature.")
	}
	return &c, nil
}

// tokenTenant is the tenant a Graph request is counted under: the tid of
// a token this emulator signed (expired or not, since even a refused call
// was that tenant's), else "" (a forged tid is not trusted).
func (e *Emulator) tokenTenant(r *http.Request) string {
	if c, ge := e.verifiedClaims(r); ge == nil {
		return c.TenantID
	}
	return ""
}

// authenticate validates the bearer token of a Graph request: signed by
// this emulator, not expired, and its tenant and app still registered.
func (e *Emulator) authenticate(r *http.Request) (*tokenClaims, *graphError) {
	c, ge := e.verifiedClaims(r)
	if ge != nil {
		return nil, ge
	}
	if !e.now().Before(time.Unix(c.Exp, 0)) {
		return nil, errInvalidToken("Lifetime validation failed, the token is expired.")
	}
	if _, _, ae := e.findApp(c.TenantID, c.AppID); ae != nil {
		return nil, errInvalidToken("Access token validation failure. The application or tenant no longer exists.")
	}
	return c, nil
}
