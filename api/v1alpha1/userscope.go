package v1alpha1

import "strings"

// The manager's grant checks and the kubectl-phoneop export both judge users against a
// tenant's userScope; these methods are the one definition of what the scope allows.

// Denies reports whether deniedUsers names the user by any of the given identifiers (UPN or
// object id; empty ones are skipped), case-insensitively.
func (s UserScope) Denies(identifiers ...string) bool {
	for _, denied := range s.DeniedUsers {
		for _, id := range identifiers {
			if id != "" && strings.EqualFold(id, denied) {
				return true
			}
		}
	}
	return false
}

// AllowsDomainOf reports whether upn's domain is one of allowedDomains or a subdomain of one,
// case-insensitively ("kim@eu.contoso.com" is in "contoso.com"; "kim@evilcontoso.com" is not).
// An empty allowedDomains allows every domain.
func (s UserScope) AllowsDomainOf(upn string) bool {
	if len(s.AllowedDomains) == 0 {
		return true
	}
	at := strings.LastIndex(upn, "@")
	if at < 0 {
		return false
	}
	host := strings.ToLower(upn[at+1:])
	for _, d := range s.AllowedDomains {
		d = strings.ToLower(strings.TrimPrefix(d, "@"))
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
