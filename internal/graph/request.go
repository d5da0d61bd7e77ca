package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
)

// maxBody caps what we read of any answer; phone-method bodies are tiny.
const maxBody = 1 << 20

// call is one logical Graph operation; do turns it into one or more HTTP
// attempts.
type call struct {
	op     string // metric label and Error.Op
	method string
	path   string // below /v1.0, already escaped
	body   any    // JSON request body; nil for none
	out    any    // decoded from a 2xx answer with a body; nil to discard
	// idempotent says whether repeating the request after an unknown
	// outcome is harmless. Only creating a method is not: a second POST
	// would fail with a conflict, or worse, race a concurrent change.
	idempotent bool
}

// do runs c with throttling and bounded retries.
func (c *Client) do(ctx context.Context, cl call) error {
	body, err := encodeBody(cl.body)
	if err != nil {
		return &Error{Op: cl.op, Class: Terminal, Code: "invalidRequestBody", Err: err}
	}
	var last *Error
	sent := false // any attempt reached the wire
	for attempt := 1; ; attempt++ {
		if err := c.throttle.admit(ctx, isWrite(cl.method), c.limits.MaxWait); err != nil {
			return c.notAdmitted(cl, err, last)
		}
		e, answered, usage := c.attempt(ctx, cl, body)
		if answered {
			c.throttle.observe(isWrite(cl.method), signalOf(e != nil && e.Status == http.StatusTooManyRequests, usage))
		}
		if e == nil {
			return nil
		}
		sent = sent || e.Sent
		e.Sent = sent
		e.Attempts = attempt
		c.honourRetryAfter(e, attempt)
		wait, retry := c.retryDelay(e, attempt)
		if !retry {
			return e
		}
		if err := c.sleep(ctx, wait); err != nil {
			return e
		}
		last = e
	}
}

// notAdmitted explains why no further attempt was made: the tenant pause is
// too long to wait for, or the caller's context ended.
func (c *Client) notAdmitted(cl call, err error, last *Error) error {
	var long errPauseTooLong
	if errors.As(err, &long) && long.ours {
		// Nothing was sent: our own bucket says the tenant's budget is spent for now.
		return &Error{Op: cl.op, Code: CodeClientThrottled, Class: Throttled, RetryAfter: long.remaining}
	}
	if errors.As(err, &long) {
		if last == nil {
			last = &Error{Op: cl.op, Code: "tenantPaused", Class: Throttled}
		}
		last.Class = Throttled
		last.RetryAfter = long.remaining
		return last
	}
	if last != nil {
		return last
	}
	return &Error{Op: cl.op, Class: Transient, Err: err}
}

// honourRetryAfter turns a Retry-After (or a 429 without one) into a pause
// of the whole tenant, clamped to MaxPause.
func (c *Client) honourRetryAfter(e *Error, attempt int) {
	d := e.RetryAfter
	if d == 0 && e.Class == Throttled {
		d = c.backoff(attempt)
	}
	if d == 0 {
		return
	}
	d = min(d, c.limits.MaxPause)
	e.RetryAfter = d
	c.throttle.pause(d)
	if e.Class == Throttled {
		throttledTotal.WithLabelValues(e.Op).Inc()
	}
}

// retryDelay decides whether e is worth another attempt and how long to wait
// first. A wait of zero means "only the tenant pause", which admit enforces.
func (c *Client) retryDelay(e *Error, attempt int) (time.Duration, bool) {
	if attempt > c.limits.MaxRetries || e.Ambiguous {
		return 0, false
	}
	switch e.Class {
	case Throttled:
		// Graph did not process a throttled request, so even a POST is safe
		// to repeat once the pause has passed.
		return 0, true
	case Unauthorized:
		// A token that expired in flight: one more try with a fresh one.
		return 0, attempt == 1 && e.Status == http.StatusUnauthorized
	case Transient:
		if e.RetryAfter > 0 {
			return 0, true
		}
		return c.backoff(attempt), true
	}
	return 0, false
}

// backoff is a jittered exponential delay: uniformly within the upper half
// of MinBackoff*2^(attempt-1), capped at MaxBackoff. Jitter keeps a fleet of
// workers from retrying in lockstep.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.limits.MinBackoff << min(attempt-1, 30)
	if d <= 0 || d > c.limits.MaxBackoff {
		d = c.limits.MaxBackoff
	}
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d on the client's clock, or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.clock.After(d):
		return nil
	}
}

// attempt makes one HTTP request and returns nil on any 2xx; answered says Graph answered at
// all, and usage is its x-ms-throttle-limit-percentage (0 when absent).
func (c *Client) attempt(ctx context.Context, cl call, body []byte) (e *Error, answered bool, usage float64) {
	ctx, cancel := context.WithTimeout(ctx, c.limits.RequestTimeout)
	defer cancel()
	crid := uuid.NewString()
	token, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return tokenError(cl.op, err), false, 0
	}
	req, err := c.newRequest(ctx, cl, body, token.Token, crid)
	if err != nil {
		return &Error{Op: cl.op, Class: Terminal, Code: "invalidRequest", ClientRequestID: crid, Err: err}, false, 0
	}
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}))
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		observe(cl.op, "error", start)
		return &Error{Op: cl.op, Class: Transient, ClientRequestID: crid, Err: err, Sent: wrote.Load(),
			Ambiguous: !cl.idempotent && wrote.Load()}, false, 0
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	observe(cl.op, strconv.Itoa(resp.StatusCode), start)
	usage, _ = strconv.ParseFloat(resp.Header.Get("x-ms-throttle-limit-percentage"), 64)
	return c.interpret(cl, resp, data, readErr, crid), true, usage
}

// newRequest builds the HTTP request with the headers every call carries.
func (c *Client) newRequest(ctx context.Context, cl call, body []byte, token, crid string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.baseURL+cl.path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("client-request-id", crid)
	req.Header.Set("return-client-request-id", "true")
	req.Header.Set(PriorityHeader, string(requestPriority(ctx, writes(cl))))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// interpret turns an HTTP answer into nil (success, out decoded) or an Error.
func (c *Client) interpret(cl call, resp *http.Response, data []byte, readErr error, crid string) *Error {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && readErr == nil {
		err := decodeBody(data, cl.out)
		if err == nil {
			return nil
		}
		readErr = err
	}
	e := &Error{
		Op:              cl.op,
		Sent:            true,
		Status:          resp.StatusCode,
		ClientRequestID: crid,
		RequestID:       resp.Header.Get("request-id"),
		RetryAfter:      parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now()),
	}
	if ok {
		// The write happened but its answer is unusable: the caller must
		// re-read rather than trust or repeat it.
		e.Class, e.Code, e.Err = Transient, "unreadableResponse", readErr
		e.Ambiguous = !cl.idempotent
		return e
	}
	env := parseEnvelope(data)
	e.Code = env.Error.Code
	e.Refusal = ClassifyRefusal(resp.StatusCode, env.Error.Message)
	if e.RequestID == "" {
		e.RequestID = env.Error.InnerError.RequestID
	}
	e.Class = Classify(resp.StatusCode, e.Code)
	// A 5xx on a create may come after the service saved the method.
	e.Ambiguous = !cl.idempotent && resp.StatusCode >= 500 && e.Class == Transient
	return e
}

// envelope is Graph's error body. The message is parsed but never kept.
type envelope struct {
	Error struct {
		Code string `json:"code"`
		// Message is read only by ClassifyRefusal and never kept: it may echo a number.
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// parseEnvelope reads what it can; a proxy's HTML error page yields an empty
// envelope and the status decides alone.
func parseEnvelope(data []byte) envelope {
	var env envelope
	_ = json.Unmarshal(data, &env)
	return env
}

// parseRetryAfter accepts delta-seconds and HTTP-dates (RFC 9110); anything
// else, or a time in the past, means no advice.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// tokenError wraps a credential failure. A refused credential (4xx from
// the token endpoint) is Unauthorized; an authority that is down, throttling
// or unreachable is Transient. azidentity's message embeds the token
// endpoint's body, so only the HTTP status goes into the summary.
func tokenError(op string, err error) *Error {
	return &Error{Op: op, Class: tokenClass(err), Code: CodeTokenAcquisitionFailed, Err: tokenCause{err}}
}

func tokenClass(err error) Class {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		if c := Classify(afe.RawResponse.StatusCode, ""); c == Throttled || c == Transient {
			return Transient
		}
		return Unauthorized
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isNetError(err) {
		return Transient // no answer from the authority
	}
	// Anything else is a credential that cannot work as configured, e.g. a
	// workload identity whose token file is missing.
	return Unauthorized
}

// tokenCause summarises a credential error without the response body.
type tokenCause struct{ err error }

func (t tokenCause) Error() string { return t.err.Error() }
func (t tokenCause) Unwrap() error { return t.err }
func (t tokenCause) Summary() string {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(t.err, &afe) && afe.RawResponse != nil {
		return "token endpoint answered HTTP " + strconv.Itoa(afe.RawResponse.StatusCode)
	}
	if errors.Is(t.err, context.DeadlineExceeded) {
		return "token request timed out"
	}
	return "no token"
}

// encodeBody marshals a request body; nil stays nil so no Content-Type is
// sent for bodiless actions.
func encodeBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// decodeBody fills out from a 2xx body; an empty body (204) is fine.
func decodeBody(data []byte, out any) error {
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// isWrite tells whether a request spends Graph's write budget too.
func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// writes tells whether a call may change Graph: a $batch envelope is a POST, but this client
// batches reads only.
func writes(cl call) bool {
	return isWrite(cl.method) && cl.path != batchPath
}

// isNetError reports a transport failure anywhere in err's chain.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
