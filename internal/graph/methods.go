package graph

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// AuthenticationMethod is one entry of GET /users/{id}/authentication/methods:
// any registered method (password, phone, passkey, Authenticator app, …),
// told apart by its OData type. Phone entries carry the phone fields.
type AuthenticationMethod struct {
	ODataType      string `json:"@odata.type"`
	ID             string `json:"id"`
	DisplayName    string `json:"displayName,omitempty"`
	PhoneNumber    string `json:"phoneNumber,omitempty"`
	PhoneType      string `json:"phoneType,omitempty"`
	SMSSignInState string `json:"smsSignInState,omitempty"`
}

// Kind is the OData type without "#microsoft.graph." and
// "AuthenticationMethod": "phone", "fido2", "microsoftAuthenticator",
// "password", … (unknown future types pass through the same way).
func (m AuthenticationMethod) Kind() string {
	k := strings.TrimPrefix(m.ODataType, "#microsoft.graph.")
	return strings.TrimSuffix(k, "AuthenticationMethod")
}

// ListAuthenticationMethods lists every authentication method of a user.
// It needs UserAuthenticationMethod.Read.All (or ReadWrite.All); the
// phone-only permissions answer 403 (Forbidden).
func (c *Client) ListAuthenticationMethods(ctx context.Context, userID string) ([]AuthenticationMethod, error) {
	const op = "listAuthenticationMethods"
	if err := required(op, userID); err != nil {
		return nil, err
	}
	var page struct {
		Value []AuthenticationMethod `json:"value"`
	}
	err := c.do(ctx, call{op: op, method: http.MethodGet, idempotent: true, out: &page, path: authMethodsPath(userID)})
	return page.Value, err
}

func authMethodsPath(userID string) string {
	return "/users/" + url.PathEscape(userID) + "/authentication/methods"
}
