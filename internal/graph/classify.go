package graph

import "net/http"

// Class tells the reconciler what to do about a failed Graph call. It is the
// only thing a caller should branch on; status codes and Graph error codes are
// kept on Error for logs and support cases.
type Class int

const (
	// None is the class of a nil error.
	None Class = iota
	// Terminal means the request itself is wrong (for example an invalid
	// phone number). Retrying cannot help until the spec changes.
	Terminal
	// NotFound means the user or the method does not exist, or does not exist
	// yet: directory replication is eventually consistent.
	NotFound
	// Conflict means the service refused the write because of the current
	// state (duplicate phone type, phoneNumberNotUnique, concurrent change).
	// The write may even have been saved: re-read before deciding.
	Conflict
	// Throttled means Graph asked us to slow down; RetryAfterOf says for how
	// long the tenant is paused.
	Throttled
	// Transient covers 5xx answers, network failures and timeouts: back off
	// and retry.
	Transient
	// Forbidden means the app lacks a permission or role: retry slowly and
	// surface the condition, an administrator has to act.
	Forbidden
	// Unauthorized means the token was refused or could not be acquired
	// (wrong secret, expired certificate, federation misconfigured): retry
	// slowly and surface the condition.
	Unauthorized
)

var classNames = map[Class]string{
	None:         "None",
	Terminal:     "Terminal",
	NotFound:     "NotFound",
	Conflict:     "Conflict",
	Throttled:    "Throttled",
	Transient:    "Transient",
	Forbidden:    "Forbidden",
	Unauthorized: "Unauthorized",
}

// String returns the constant's name, for logs and condition messages.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return "Unknown"
}

// codeClasses maps the Graph error codes named in graph-phone-methods.md to a
// class. A code wins over the status only where the documentation ties the
// code to a meaning; everything else is decided by the status alone.
var codeClasses = map[string]Class{
	"badRequest":                     Terminal,
	"Request_BadRequest":             Terminal,
	"InvalidAuthenticationToken":     Unauthorized,
	"accessDenied":                   Forbidden,
	"Authorization_RequestDenied":    Forbidden,
	"Request_ResourceNotFound":       NotFound,
	"itemNotFound":                   NotFound,
	"phoneNumberNotUnique":           Conflict,
	"Directory_ConcurrencyViolation": Conflict,
	"TooManyRequests":                Throttled,
	"serviceNotAvailable":            Transient,
	"gatewayTimeout":                 Transient,
}

// Classify maps a Graph answer to a Class. It is pure so that the table in
// graph-phone-methods.md can be tested row by row.
//
// Status 0 stands for "no HTTP answer" (connection refused, reset, timeout).
// 429 and 5xx are decided by the status alone, because a throttled or failing
// front end may answer with any body. For other statuses a documented code
// decides, so that, say, a 400 carrying phoneNumberNotUnique is still treated
// as a conflict to re-read rather than as bad input.
func Classify(status int, code string) Class {
	switch {
	case status == 0:
		return Transient
	case status >= 200 && status < 300:
		return None
	case status == http.StatusTooManyRequests:
		return Throttled
	case status == http.StatusNotImplemented || status == http.StatusHTTPVersionNotSupported:
		// The request can never work against this service.
		return Terminal
	case status >= 500:
		return Transient
	}
	if c, ok := codeClasses[code]; ok && c != Throttled && c != Transient {
		return c
	}
	return classifyStatus(status)
}

// classifyStatus is the fallback for codes the contract does not name.
func classifyStatus(status int) Class {
	switch status {
	case http.StatusUnauthorized:
		return Unauthorized
	case http.StatusForbidden:
		return Forbidden
	case http.StatusNotFound, http.StatusGone:
		return NotFound
	case http.StatusConflict, http.StatusPreconditionFailed:
		return Conflict
	case http.StatusRequestTimeout:
		return Transient
	}
	return Terminal
}
