package v1alpha1

// TenantCredentials is a union: exactly one of its fields is set (the CRD's CEL rule says so).
// These methods are the one switch over it, so that the manager, its Secret watch, its change
// feed and kubectl-phoneop do not each repeat it.

// ClientID is the application (client) id the credentials authenticate as, whichever kind is
// set; "" when none is.
func (c TenantCredentials) ClientID() string {
	switch {
	case c.ClientSecret != nil:
		return c.ClientSecret.ClientID
	case c.ClientCertificate != nil:
		return c.ClientCertificate.ClientID
	case c.WorkloadIdentity != nil:
		return c.WorkloadIdentity.ClientID
	}
	return ""
}

// SecretRefs lists the Secret keys the credentials read, in the order they are read: the
// client secret, or the certificate and then its password when passwordRef is set. Workload
// identity reads no Secret, and neither do credentials that set nothing.
func (c TenantCredentials) SecretRefs() []CredentialSecretReference {
	switch {
	case c.ClientSecret != nil:
		return []CredentialSecretReference{c.ClientSecret.SecretRef}
	case c.ClientCertificate != nil:
		refs := []CredentialSecretReference{c.ClientCertificate.SecretRef}
		if c.ClientCertificate.PasswordRef != nil {
			refs = append(refs, *c.ClientCertificate.PasswordRef)
		}
		return refs
	}
	return nil
}
