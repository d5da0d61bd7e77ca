package graph

import (
	"context"
	"net/http"
	"net/url"
)

// Phone types, as Graph spells them.
const (
	PhoneTypeMobile          = "mobile"
	PhoneTypeAlternateMobile = "alternateMobile"
	PhoneTypeOffice          = "office"
)

// SMS sign-in states Graph documents. SMSSignInState is kept as received,
// so values not listed here (new ones behind unknownFutureValue) pass through.
const (
	SMSSignInReady                = "ready"
	SMSSignInNotSupported         = "notSupported"
	SMSSignInNotAllowedByPolicy   = "notAllowedByPolicy"
	SMSSignInNotEnabled           = "notEnabled"
	SMSSignInPhoneNumberNotUnique = "phoneNumberNotUnique"
	SMSSignInNotConfigured        = "notConfigured"
	SMSSignInUnknownFutureValue   = "unknownFutureValue"
)

// PhoneMethod is microsoft.graph.phoneAuthenticationMethod.
type PhoneMethod struct {
	ID             string `json:"id"`
	PhoneNumber    string `json:"phoneNumber"`
	PhoneType      string `json:"phoneType"`
	SMSSignInState string `json:"smsSignInState,omitempty"`
}

// User is the part of microsoft.graph.user the operator needs.
type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	// UserType is "Member" or "Guest" as Graph reports it; "" when not read (group member
	// listings).
	UserType string `json:"userType,omitempty"`
}

// GetUser resolves a user by object id or UPN. Resolve once and keep the id:
// UPNs get renamed, ids do not.
func (c *Client) GetUser(ctx context.Context, idOrUPN string) (User, error) {
	const op = "getUser"
	var u User
	if err := required(op, idOrUPN); err != nil {
		return u, err
	}
	err := c.do(ctx, call{op: op, method: http.MethodGet, idempotent: true, out: &u,
		path: "/users/" + url.PathEscape(idOrUPN) + "?$select=id,userPrincipalName,userType"})
	return u, err
}

// ListPhoneMethods returns the user's phone methods (at most one per type).
// The endpoint supports no query options; filter on the result.
func (c *Client) ListPhoneMethods(ctx context.Context, userID string) ([]PhoneMethod, error) {
	const op = "listPhoneMethods"
	if err := required(op, userID); err != nil {
		return nil, err
	}
	var page struct {
		Value []PhoneMethod `json:"value"`
	}
	err := c.do(ctx, call{op: op, method: http.MethodGet, idempotent: true, out: &page,
		path: methodsPath(userID)})
	return page.Value, err
}

// GetPhoneMethod reads one method; NotFound when the user has no phone of
// that type.
func (c *Client) GetPhoneMethod(ctx context.Context, userID, methodID string) (PhoneMethod, error) {
	const op = "getPhoneMethod"
	var m PhoneMethod
	if err := required(op, userID, methodID); err != nil {
		return m, err
	}
	err := c.do(ctx, call{op: op, method: http.MethodGet, idempotent: true, out: &m,
		path: methodPath(userID, methodID)})
	return m, err
}

// CreatePhoneMethod adds a phone. It is the one call that is never retried
// after an unknown outcome: on an error with IsAmbiguous, list the user's
// methods to learn whether it was saved. A Conflict may also come with the
// method saved (phoneNumberNotUnique): re-read before concluding.
func (c *Client) CreatePhoneMethod(ctx context.Context, userID, phoneType, number string) (PhoneMethod, error) {
	const op = "createPhoneMethod"
	var m PhoneMethod
	if err := required(op, userID, phoneType, number); err != nil {
		return m, err
	}
	// smsSignInState is read-only and must not be sent.
	body := struct {
		PhoneNumber string `json:"phoneNumber"`
		PhoneType   string `json:"phoneType"`
	}{number, phoneType}
	err := c.do(ctx, call{op: op, method: http.MethodPost, idempotent: false, body: body, out: &m,
		path: methodsPath(userID)})
	return m, err
}

// UpdatePhoneNumber changes the number of an existing method. The type of a
// method cannot be changed: add the new type and delete the old instead.
func (c *Client) UpdatePhoneNumber(ctx context.Context, userID, methodID, phoneType, number string) error {
	const op = "updatePhoneMethod"
	if err := required(op, userID, methodID, phoneType, number); err != nil {
		return err
	}
	// phoneType goes with the number, as every observed v1.0 caller and the docs' example send
	// it; Graph refuses a phoneType that differs from the method's.
	body := struct {
		PhoneNumber string `json:"phoneNumber"`
		PhoneType   string `json:"phoneType"`
	}{number, phoneType}
	// Setting a number is idempotent; 204 and 200 with a body both mean done.
	return c.do(ctx, call{op: op, method: http.MethodPatch, idempotent: true, body: body,
		path: methodPath(userID, methodID)})
}

// DeletePhoneMethod removes a method. A mobile cannot be deleted while an
// alternateMobile exists; delete the alternate first.
func (c *Client) DeletePhoneMethod(ctx context.Context, userID, methodID string) error {
	const op = "deletePhoneMethod"
	if err := required(op, userID, methodID); err != nil {
		return err
	}
	return c.do(ctx, call{op: op, method: http.MethodDelete, idempotent: true,
		path: methodPath(userID, methodID)})
}

// EnableSMSSignIn registers the user's mobile for SMS sign-in. Not available
// in the China cloud: the call is refused with a Terminal error, unsent.
func (c *Client) EnableSMSSignIn(ctx context.Context, userID, methodID string) error {
	return c.smsSignIn(ctx, "enableSmsSignIn", userID, methodID)
}

// DisableSMSSignIn unregisters the user's mobile from SMS sign-in. Not
// available in the China cloud, like EnableSMSSignIn.
func (c *Client) DisableSMSSignIn(ctx context.Context, userID, methodID string) error {
	return c.smsSignIn(ctx, "disableSmsSignIn", userID, methodID)
}

// smsSignIn posts one of the two bodiless SMS sign-in actions. They are
// POSTs but idempotent (enabling twice leaves it enabled), so they are
// retried like a PATCH.
func (c *Client) smsSignIn(ctx context.Context, action, userID, methodID string) error {
	if !c.cloud.SupportsSMSSignIn() {
		return &Error{Op: action, Class: Terminal, Code: "notSupportedInCloud"}
	}
	if err := required(action, userID, methodID); err != nil {
		return err
	}
	return c.do(ctx, call{op: action, method: http.MethodPost, idempotent: true,
		path: methodPath(userID, methodID) + "/" + action})
}

func methodsPath(userID string) string {
	return "/users/" + url.PathEscape(userID) + "/authentication/phoneMethods"
}

func methodPath(userID, methodID string) string {
	return methodsPath(userID) + "/" + url.PathEscape(methodID)
}

// required refuses empty arguments locally: "/users//authentication" would
// reach Graph as a different, confusing request.
func required(op string, args ...string) error {
	for _, a := range args {
		if a == "" {
			return &Error{Op: op, Class: Terminal, Code: "missingArgument"}
		}
	}
	return nil
}
