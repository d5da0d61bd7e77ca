package graph

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// CredentialSource says how an app proves its identity. Set ClientID and
// exactly one of ClientSecret, CertificatePEMOrPFX or WorkloadIdentity.
type CredentialSource struct {
	// ClientID is the app registration's application (client) id. With
	// WorkloadIdentity it may be empty to use AZURE_CLIENT_ID.
	ClientID string
	// ClientSecret is a client secret value.
	ClientSecret string
	// CertificatePEMOrPFX holds a certificate and its private key, PEM or
	// PKCS#12, as stored in a Kubernetes Secret.
	CertificatePEMOrPFX []byte
	// CertificatePassword decrypts a PKCS#12 file or an encrypted PEM key.
	CertificatePassword string
	// WorkloadIdentity uses federated credentials: the projected service
	// account token at TokenFilePath (or AZURE_FEDERATED_TOKEN_FILE), re-read
	// as it rotates.
	WorkloadIdentity bool
	// TokenFilePath overrides AZURE_FEDERATED_TOKEN_FILE.
	TokenFilePath string
}

// NewCredential builds an azidentity credential for tenantID against ep's
// authority. httpClient carries the token requests (tests pass a client that
// trusts the emulator); nil means http.DefaultClient. The returned
// credential caches and refreshes tokens itself.
func NewCredential(tenantID string, ep Endpoints, src CredentialSource, httpClient *http.Client) (azcore.TokenCredential, error) {
	if tenantID == "" {
		return nil, errors.New("credential: tenant id is required")
	}
	if ep.AuthorityHost == "" {
		return nil, errors.New("credential: authority host is required")
	}
	if err := src.validate(); err != nil {
		return nil, err
	}
	opts := clientOptions(ep, httpClient)
	disableDiscovery := !isKnownAuthority(ep.AuthorityHost)
	switch {
	case src.ClientSecret != "":
		return azidentity.NewClientSecretCredential(tenantID, src.ClientID, src.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery})
	case len(src.CertificatePEMOrPFX) > 0:
		return certificateCredential(tenantID, src, opts, disableDiscovery)
	default:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, ClientID: src.ClientID, TenantID: tenantID,
			TokenFilePath: src.TokenFilePath, DisableInstanceDiscovery: disableDiscovery,
		})
	}
}

// validate insists on exactly one kind of proof, so that a Secret holding
// both a secret and a certificate is reported instead of guessed at.
func (s CredentialSource) validate() error {
	kinds := 0
	for _, set := range []bool{s.ClientSecret != "", len(s.CertificatePEMOrPFX) > 0, s.WorkloadIdentity} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("credential: set exactly one of client secret, certificate or workload identity (got %d)", kinds)
	}
	if s.ClientID == "" && !s.WorkloadIdentity {
		return errors.New("credential: client id is required")
	}
	return nil
}

// clientOptions points azidentity at the tenant's authority and transport.
func clientOptions(ep Endpoints, httpClient *http.Client) azcore.ClientOptions {
	opts := azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: ep.AuthorityHost},
	}
	if httpClient != nil {
		opts.Transport = httpClient
	}
	return opts
}

// certificateCredential builds a certificate credential that signs client
// assertions with the certificate's key.
func certificateCredential(tenantID string, src CredentialSource, opts azcore.ClientOptions, disableDiscovery bool) (azcore.TokenCredential, error) {
	certs, key, err := parseCertificate(src.CertificatePEMOrPFX, src.CertificatePassword)
	if err != nil {
		return nil, err
	}
	return azidentity.NewClientCertificateCredential(tenantID, src.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery})
}

// parseCertificate reads PEM or PKCS#12. azidentity's parser handles PEM and
// legacy PKCS#12 (SHA-1/3DES) only; files made by OpenSSL 3 with default
// options use AES and SHA-256, so PKCS#12 that azidentity rejects gets a
// second chance with go-pkcs12. Errors never echo the key material.
func parseCertificate(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err == nil {
		return certs, key, nil
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return nil, nil, fmt.Errorf("credential: cannot read the PEM certificate: %w", err)
	}
	key, leaf, chain, p12err := pkcs12.DecodeChain(data, password)
	if p12err != nil {
		return nil, nil, fmt.Errorf("credential: cannot read the PKCS#12 certificate: %w", p12err)
	}
	return append([]*x509.Certificate{leaf}, chain...), key, nil
}
