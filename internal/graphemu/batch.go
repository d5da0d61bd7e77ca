package graphemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

const maxBatch = 20

type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// serveBatch answers JSON batching: at most 20 parts, each authenticated,
// throttled, counted and answered on its own, in request order.
func (e *Emulator) serveBatch(w http.ResponseWriter, r *http.Request, version string) {
	var in struct {
		Requests []batchRequest `json:"requests"`
	}
	b, _ := readBody(r)
	if err := json.Unmarshal(b, &in); err != nil || len(in.Requests) == 0 {
		e.writeGraphError(w, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload."))
		return
	}
	if ge := checkBatch(in.Requests); ge != nil {
		e.writeGraphError(w, ge)
		return
	}
	out := make([]batchResponse, 0, len(in.Requests))
	for _, br := range in.Requests {
		out = append(out, e.batchPart(r, br, version))
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

// checkBatch enforces Graph's batch limits: 1–20 parts with unique ids.
func checkBatch(reqs []batchRequest) *graphError {
	if len(reqs) > maxBatch {
		return gerr(http.StatusBadRequest, "BadRequest", "Number of requests in a batch exceeds the limit of 20.")
	}
	seen := map[string]bool{}
	for _, br := range reqs {
		if br.ID == "" || seen[br.ID] || br.Method == "" || br.URL == "" {
			return gerr(http.StatusBadRequest, "BadRequest", "Each batch request needs a unique id, a method and a url.")
		}
		seen[br.ID] = true
	}
	return nil
}

// batchPart runs one part as if it had been sent alone with the outer
// request's token.
func (e *Emulator) batchPart(outer *http.Request, br batchRequest, version string) batchResponse {
	u, err := url.Parse("/" + version + "/" + strings.TrimPrefix(br.URL, "/"))
	if err != nil {
		return batchResponse{ID: br.ID, Status: http.StatusBadRequest}
	}
	sub, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(br.Method), u.String(), bytes.NewReader(br.Body))
	if err != nil {
		return batchResponse{ID: br.ID, Status: http.StatusBadRequest}
	}
	for k, v := range br.Headers {
		sub.Header.Set(k, v)
	}
	sub.Header.Set("Authorization", outer.Header.Get("Authorization"))
	// A part is served on the outer request's host, so that an @odata.nextLink in its
	// answer points where the batch went.
	sub.Host, sub.TLS = outer.Host, outer.TLS
	sub.Header.Del("Content-Encoding") // a part's body is JSON inside the batch, never encoded on its own
	rec := httptest.NewRecorder()
	e.stampGraphHeaders(rec, sub)
	_, segs := splitGraphPath(sub.URL.EscapedPath())
	gr := matchGraph(segs)
	fault := ""
	if gr.template == RouteBatch {
		e.writeGraphError(rec, gerr(http.StatusBadRequest, "BadRequest", "Nested batches are not supported."))
	} else {
		fault = e.graphRequest(rec, sub, gr, version)
	}
	e.stats.add(e.tokenTenant(sub), sub.Method, gr.template, rec.Code, fault)
	e.priorities.add(e.tokenTenant(sub), sub.Method, gr.template, sub.Header.Get(PriorityHeader))
	resp := batchResponse{ID: br.ID, Status: rec.Code, Headers: map[string]string{}}
	for k := range rec.Header() {
		resp.Headers[k] = rec.Header().Get(k)
	}
	if rec.Body.Len() > 0 {
		resp.Body = json.RawMessage(rec.Body.Bytes())
	}
	return resp
}
