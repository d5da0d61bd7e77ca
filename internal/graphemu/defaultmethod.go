package graphemu

import (
	"net/http"
	"strings"
)

// The user's default sign-in method (rule 9 of graph-phone-methods.md): Graph refuses to delete
// the phone that is a user's default MFA method while the user has other methods. Graph shows
// and sets the default only through the beta signInPreferences, with permissions phoneop does
// not hold, so here it is set out of band: User.DefaultMethod in a seed, SetDefaultMethod, or
// PUT /_emulator/tenants/{t}/users/{u}/defaultMethod.
//
// The rule when none is set follows Entra's system-preferred MFA, which picks the strongest
// method a user has: the strongest non-phone MFA method (fido2, windowsHelloForBusiness,
// platformCredential, microsoftAuthenticator, softwareOath, external, in that order) when the
// user has one. A user with phones only and no default set has none (as a user who never chose
// one), so their phones delete freely; a phone is the default only when set.

// strongerThanPhones orders the non-phone MFA methods the rule may pick, strongest first. A
// password, an email address and a Temporary Access Pass are never a default.
var strongerThanPhones = []string{MethodFido2, MethodWindowsHelloForBusiness, MethodPlatformCredential,
	MethodMicrosoftAuthenticator, MethodSoftwareOath, MethodExternal}

// defaultMethodOf is the user's default method: the one set, else the rule's choice ("" for
// none).
func defaultMethodOf(u *user) string {
	if u.DefaultMethod != "" {
		return u.DefaultMethod
	}
	for _, kind := range strongerThanPhones {
		for _, o := range u.others {
			if o.Type == kind {
				return kind
			}
		}
	}
	return ""
}

// hasOtherMethods reports whether the user has a method besides the phone of the given type
// (the password does not count: every user has one).
func hasOtherMethods(u *user, phoneType string) bool {
	for t := range u.methods {
		if t != phoneType {
			return true
		}
	}
	for _, o := range u.others {
		if o.Type != MethodPassword {
			return true
		}
	}
	return false
}

// errDefaultMethod is Graph's answer to deleting the default method (Graph docs issues
// #14470, #20895).
func errDefaultMethod() *graphError {
	return gerr(http.StatusBadRequest, "badRequest",
		"Cannot delete default method with other methods configured. Please change default method before deletion.")
}

// validDefaultMethod normalises a default method: a phone type, a method kind, or "" (the rule).
func validDefaultMethod(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	for t := range typeIDs {
		if strings.EqualFold(t, v) {
			return t, true
		}
	}
	if kind, ok := methodKind(v); ok && kind != MethodPassword {
		return kind, true
	}
	return "", false
}

// SetDefaultMethod sets a user's default sign-in method out of band (as the user on My Sign-Ins
// or an admin in the Entra admin center would); "" returns to the rule.
func (e *Emulator) SetDefaultMethod(tenantID, userKey, method string) error {
	m, ok := validDefaultMethod(method)
	if !ok {
		return errorf("invalid default method %q (want a phone type or an authentication method kind)", method)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return err
	}
	u.DefaultMethod = m
	return nil
}

// DefaultMethod returns a user's default sign-in method as the rules see it ("" for none).
func (e *Emulator) DefaultMethod(tenantID, userKey string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return "", err
	}
	return defaultMethodOf(u), nil
}

// DefaultMethodBody is the admin API's view of a user's default method.
type DefaultMethodBody struct {
	DefaultMethod string `json:"defaultMethod"`
}
