package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBatchParts is Graph's limit of requests in one JSON batch.
const MaxBatchParts = 20

// batchPath is the JSON batching endpoint, below /v1.0.
const batchPath = "/$batch"

// BatchGet is one GET of a $batch: a path below /v1.0, already escaped
// (e.g. "/users/kim%40contoso.com/authentication/phoneMethods"), and the
// headers of that part only.
type BatchGet struct {
	Path    string
	Headers map[string]string
}

// BatchAnswer is the answer to one part: its status and JSON body, or Err
// (an *Error, classed like any other call's) when the part failed after its
// retries.
type BatchAnswer struct {
	Status int
	Body   json.RawMessage
	Err    error
}

// BatchGets sends up to MaxBatchParts GETs as one POST /$batch. Graph
// answers and throttles each part on its own, so the tenant's token bucket
// is charged one request per part (and nothing from the write bucket: the
// envelope is a POST but writes nothing), a part answered 429 pauses the
// whole tenant like any 429, and throttled or failing parts (429, 5xx) are
// sent again, alone, in a later batch, up to Limits.MaxRetries times.
// Answers come back in the order of reqs.
//
// Only reads are batched: graph-phone-methods.md has no source for batched
// writes, so this client never sends one. The error is non-nil only when the
// batch as a whole failed (token, network, 429 or 5xx on the envelope after
// retries); per-part failures are in BatchAnswer.Err.
func (c *Client) BatchGets(ctx context.Context, op string, reqs []BatchGet) ([]BatchAnswer, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	if len(reqs) > MaxBatchParts {
		return nil, &Error{Op: op, Class: Terminal, Code: "batchTooLarge"}
	}
	answers := make([]BatchAnswer, len(reqs))
	pending := make([]int, len(reqs))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 1; ; attempt++ {
		parts, err := c.sendBatch(ctx, op, reqs, pending)
		if err != nil {
			return nil, err
		}
		var again []int
		var wait time.Duration
		for _, i := range pending {
			p, ok := parts[strconv.Itoa(i)]
			if !ok {
				e := &Error{Op: op, Class: Transient, Code: "batchPartMissing", Attempts: attempt}
				answers[i] = BatchAnswer{Err: e}
				again = append(again, i)
				continue
			}
			if p.Status >= 200 && p.Status < 300 {
				answers[i] = BatchAnswer{Status: p.Status, Body: p.Body}
				continue
			}
			e := c.partError(op, p)
			e.Attempts = attempt
			c.honourRetryAfter(e, attempt)
			answers[i] = BatchAnswer{Status: p.Status, Body: p.Body, Err: e}
			if d, retry := c.retryDelay(e, attempt); retry {
				again = append(again, i)
				wait = max(wait, d)
			}
		}
		if len(again) == 0 || attempt > c.limits.MaxRetries {
			return answers, nil
		}
		if err := c.sleep(ctx, wait); err != nil {
			return answers, nil
		}
		pending = again
	}
}

// batchPart is one answer inside a $batch response.
type batchPart struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// sendBatch posts the pending parts (ids are their indexes in reqs) and
// returns the answers by id. The envelope is retried like an idempotent GET:
// every part is a read.
func (c *Client) sendBatch(ctx context.Context, op string, reqs []BatchGet, pending []int) (map[string]batchPart, error) {
	type part struct {
		ID      string            `json:"id"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers,omitempty"`
	}
	in := struct {
		Requests []part `json:"requests"`
	}{}
	for _, i := range pending {
		r := reqs[i]
		if !strings.HasPrefix(r.Path, "/") {
			return nil, &Error{Op: op, Class: Terminal, Code: "invalidBatchPath"}
		}
		in.Requests = append(in.Requests, part{ID: strconv.Itoa(i), Method: http.MethodGet, URL: r.Path, Headers: withPriority(ctx, r.Headers)})
	}
	body, err := encodeBody(in)
	if err != nil {
		return nil, &Error{Op: op, Class: Terminal, Code: "invalidRequestBody", Err: err}
	}
	var out struct {
		Responses []batchPart `json:"responses"`
	}
	cl := call{op: op, method: http.MethodPost, path: batchPath, out: &out, idempotent: true}
	var last *Error
	for attempt := 1; ; attempt++ {
		for range pending {
			if err := c.throttle.admit(ctx, false, c.limits.MaxWait); err != nil {
				return nil, c.notAdmitted(cl, err, last)
			}
		}
		out.Responses = nil
		e, _, _ := c.attempt(ctx, cl, body) // each part is throttled on its own: see partError
		if e == nil {
			parts := make(map[string]batchPart, len(out.Responses))
			for _, p := range out.Responses {
				parts[p.ID] = p
			}
			return parts, nil
		}
		e.Attempts = attempt
		c.honourRetryAfter(e, attempt)
		wait, retry := c.retryDelay(e, attempt)
		if !retry {
			return nil, e
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, e
		}
		last = e
	}
}

// withPriority adds the context's throttle priority to a part's headers (a copy): Graph
// throttles each part on its own, so each part says what it is, as the envelope does.
func withPriority(ctx context.Context, headers map[string]string) map[string]string {
	out := make(map[string]string, len(headers)+1)
	for k, v := range headers {
		out[k] = v
	}
	out[PriorityHeader] = string(requestPriority(ctx, false))
	return out
}

// partError turns a failed part into an *Error, as interpret does for a
// request of its own: Graph's code from the envelope, the request-id and
// Retry-After from the part's headers. Neither the body nor the message is
// kept.
func (c *Client) partError(op string, p batchPart) *Error {
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	env := parseEnvelope(p.Body)
	e := &Error{
		Op:         op,
		Status:     p.Status,
		Code:       env.Error.Code,
		RequestID:  h.Get("request-id"),
		RetryAfter: parseRetryAfter(h.Get("Retry-After"), c.clock.Now()),
	}
	if e.RequestID == "" {
		e.RequestID = env.Error.InnerError.RequestID
	}
	e.Class = Classify(p.Status, e.Code)
	return e
}

// decodePart decodes a successful part's body into out, or returns its error.
func decodePart(op string, a BatchAnswer, out any) error {
	if a.Err != nil {
		return a.Err
	}
	if err := decodeBody(a.Body, out); err != nil {
		return &Error{Op: op, Status: a.Status, Class: Transient, Code: "unreadableResponse", Err: errors.New("undecodable batch part")}
	}
	return nil
}

// PhoneMethodsResult is one user's phone methods read in a batch.
type PhoneMethodsResult struct {
	UserID  string
	Methods []PhoneMethod
	Err     error
}

// ListPhoneMethodsBatch lists the phone methods of up to MaxBatchParts
// users (object ids or UPNs) in one $batch. Results are in the order of
// userIDs; a user that could not be read has Err set.
func (c *Client) ListPhoneMethodsBatch(ctx context.Context, userIDs []string) ([]PhoneMethodsResult, error) {
	return listBatch(ctx, c, "listPhoneMethodsBatch", userIDs, methodsPath,
		func(userID string, methods []PhoneMethod, err error) PhoneMethodsResult {
			return PhoneMethodsResult{UserID: userID, Methods: methods, Err: err}
		})
}

// AuthenticationMethodsResult is one user's authentication methods read in a batch.
type AuthenticationMethodsResult struct {
	UserID  string
	Methods []AuthenticationMethod
	Err     error
}

// ListAuthenticationMethodsBatch lists every authentication method of up to
// MaxBatchParts users in one $batch (GET /users/{id}/authentication/methods,
// which needs UserAuthenticationMethod.Read.All: the phone-only permissions
// answer 403).
func (c *Client) ListAuthenticationMethodsBatch(ctx context.Context, userIDs []string) ([]AuthenticationMethodsResult, error) {
	return listBatch(ctx, c, "listAuthenticationMethodsBatch", userIDs, authMethodsPath,
		func(userID string, methods []AuthenticationMethod, err error) AuthenticationMethodsResult {
			return AuthenticationMethodsResult{UserID: userID, Methods: methods, Err: err}
		})
}

// listBatch GETs one list (path(userID), answered {"value": [...]}) per user
// in one $batch and returns result(userID, the list's values, its error) per
// user, in the order of userIDs.
func listBatch[T, R any](ctx context.Context, c *Client, op string, userIDs []string, path func(string) string,
	result func(userID string, values []T, err error) R) ([]R, error) {
	reqs, err := userBatch(op, userIDs, path)
	if err != nil {
		return nil, err
	}
	answers, err := c.BatchGets(ctx, op, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]R, len(userIDs))
	for i, a := range answers {
		var page struct {
			Value []T `json:"value"`
		}
		err := decodePart(op, a, &page)
		out[i] = result(userIDs[i], page.Value, err)
	}
	return out, nil
}

// userBatch builds one GET per user, refusing empty ids locally.
func userBatch(op string, userIDs []string, path func(string) string) ([]BatchGet, error) {
	if len(userIDs) > MaxBatchParts {
		return nil, &Error{Op: op, Class: Terminal, Code: "batchTooLarge"}
	}
	reqs := make([]BatchGet, len(userIDs))
	for i, id := range userIDs {
		if err := required(op, id); err != nil {
			return nil, err
		}
		reqs[i] = BatchGet{Path: path(id)}
	}
	return reqs, nil
}
