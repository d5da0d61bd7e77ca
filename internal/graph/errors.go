package graph

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is every failure the Client returns. It deliberately carries neither
// the response body nor the Graph error message: both may echo a phone number,
// and the status, code and request ids are what a support case needs.
type Error struct {
	// Op is the client operation, e.g. "createPhoneMethod".
	Op string
	// Status is the HTTP status of the last attempt, 0 when there was none
	// (network failure, timeout, refused before sending).
	Status int
	// Code is the Graph error code from the envelope, e.g. "accessDenied".
	Code string
	// RequestID is Graph's request-id of the last attempt; quote it in
	// support cases.
	RequestID string
	// ClientRequestID is the client-request-id we sent with the last attempt.
	ClientRequestID string
	// RetryAfter is how long the tenant is paused (throttling) or what the
	// service asked for; zero when it said nothing.
	RetryAfter time.Duration
	// Class is what the caller should do about it.
	Class Class
	// Ambiguous is set on a non-idempotent request (creating a method) that
	// may or may not have been applied: the connection failed after the
	// request was sent, or the service answered 5xx. Re-read, never re-POST.
	Ambiguous bool
	// Attempts is how many HTTP requests the call made.
	Attempts int
	// Sent: at least one attempt was written to the wire (Graph may have acted on it). False
	// when nothing left phoneop: no connection, no token, throttled by our own bucket, or the
	// context ended first.
	Sent bool
	// Refusal names a refusal Graph gives no code of its own for (its code is a generic
	// badRequest), recognised once from the message so that the message itself is never kept.
	Refusal Refusal
	// Err is the underlying cause for failures without a Graph answer
	// (network, token acquisition, context). Not part of Error().
	Err error
}

// Error gives a one-line summary that is safe to log and to put in a
// condition message.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s: ", e.Op)
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
	case e.Code != "":
		b.WriteString(e.Code)
	default:
		b.WriteString("no response")
	}
	if e.Err != nil && e.Status == 0 {
		fmt.Fprintf(&b, ": %s", causeSummary(e.Err))
	}
	fmt.Fprintf(&b, " (class %s", e.Class)
	if e.Ambiguous {
		b.WriteString(", ambiguous: the request may have been applied")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, ", request-id %s", e.RequestID)
	}
	if e.ClientRequestID != "" {
		fmt.Fprintf(&b, ", client-request-id %s", e.ClientRequestID)
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap exposes the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// causeSummary keeps the innermost message of a cause. The outer layers of a
// *url.Error repeat the request URL, which names the user; the innermost one
// ("EOF", "connection reset by peer") is what tells the story.
func causeSummary(err error) string {
	if s, ok := err.(interface{ Summary() string }); ok {
		return s.Summary()
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}

// asError finds a *Error in err's chain.
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// ClassOf returns the class of err: None for nil, the Error's class when err
// wraps an *Error, and Transient for anything else (a failure we cannot
// explain is best retried with backoff).
func ClassOf(err error) Class {
	if err == nil {
		return None
	}
	if e, ok := asError(err); ok {
		return e.Class
	}
	return Transient
}

// RetryAfterOf returns how long the service asked us to wait, or zero.
func RetryAfterOf(err error) time.Duration {
	if e, ok := asError(err); ok {
		return e.RetryAfter
	}
	return 0
}

// IsNotFound reports whether the user or method does not exist (yet).
func IsNotFound(err error) bool { return ClassOf(err) == NotFound }

// IsConflict reports whether the write conflicted with the current state;
// re-read before deciding.
func IsConflict(err error) bool { return ClassOf(err) == Conflict }

// IsThrottled reports whether the tenant is throttled; see RetryAfterOf.
func IsThrottled(err error) bool { return ClassOf(err) == Throttled }

// IsTerminal reports whether retrying the same request cannot succeed.
func IsTerminal(err error) bool { return ClassOf(err) == Terminal }

// IsForbidden reports a missing permission or role.
func IsForbidden(err error) bool { return ClassOf(err) == Forbidden }

// IsUnauthorized reports a refused or unobtainable token.
func IsUnauthorized(err error) bool { return ClassOf(err) == Unauthorized }

// IsTransient reports a failure worth retrying with backoff.
func IsTransient(err error) bool { return ClassOf(err) == Transient }

// CodeTokenAcquisitionFailed is the Code of a call that was not sent because no token could
// be obtained from the tenant's authority (Entra ID's login endpoint), not because Graph
// answered.
const CodeTokenAcquisitionFailed = "tokenAcquisitionFailed"

// IsTokenFailure reports a call that failed at the authority, before reaching Graph.
func IsTokenFailure(err error) bool {
	e, ok := asError(err)
	return ok && e.Code == CodeTokenAcquisitionFailed
}

// CodeClientThrottled is the Code of a call phoneop did not send because the
// tenant's own token buckets would have held it longer than Limits.MaxWait.
const CodeClientThrottled = "clientThrottled"

// IsClientThrottled reports a call that was not sent because the tenant's
// request budget is spent for now (RetryAfterOf says for how long): nothing
// is wrong, the work just has to come back later without holding a worker.
func IsClientThrottled(err error) bool {
	e, ok := asError(err)
	return ok && e.Code == CodeClientThrottled
}

// IsAmbiguous reports a create whose outcome is unknown: re-read the user's
// methods before doing anything else.
func IsAmbiguous(err error) bool {
	e, ok := asError(err)
	return ok && e.Ambiguous
}

// Refundable reports whether a failed write certainly changed nothing in Graph, so that its
// change-budget token goes back: Graph refused it (a 4xx other than 409, a 429 it did not
// process) or it never reached Graph. A write whose outcome is unknown (a timeout or dropped
// connection after sending, a 5xx, a 409 that may have saved it) keeps its token.
func Refundable(err error) bool {
	if err == nil {
		return false
	}
	e, ok := asError(err)
	if !ok {
		return false // not the client's: nothing says it was not sent
	}
	return refundable(e.Status, e.Sent)
}

// refundable is Refundable's rule, on the last answer's status and whether any attempt was sent.
func refundable(status int, sent bool) bool {
	switch {
	case !sent:
		return true // nothing left phoneop
	case status == 0:
		return false // sent, and no answer: Graph may have acted on it
	case status == 409, status >= 500, status >= 200 && status < 300:
		return false // a conflict may have saved the write; a 5xx may follow a save; a 2xx did
	}
	return status >= 400 // refused: 400, 401, 403, 404, 429 change nothing
}

// Refusal is a specific refusal of a Graph write.
type Refusal int

const (
	// NoRefusal: nothing specific.
	NoRefusal Refusal = iota
	// DefaultMethodRefusal: Graph refuses to delete the user's default MFA method while the
	// user has other methods (400 badRequest, "Cannot delete default method with other methods
	// configured. Please change default method before deletion.").
	DefaultMethodRefusal
)

// ClassifyRefusal recognises the refusals Graph names only in its message. Graph's docs say to
// branch on status and code, but this refusal has no code beyond badRequest; the message is
// matched on its stable words and then dropped (it is never logged or kept).
func ClassifyRefusal(status int, message string) Refusal {
	if status != 400 {
		return NoRefusal
	}
	m := strings.ToLower(message)
	if strings.Contains(m, "default method") && strings.Contains(m, "delete") {
		return DefaultMethodRefusal
	}
	return NoRefusal
}

// IsDefaultMethodRefusal reports that Graph refused to delete the user's default method.
func IsDefaultMethodRefusal(err error) bool {
	e, ok := asError(err)
	return ok && e.Refusal == DefaultMethodRefusal
}
