package graphemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"

	"github.com/google/uuid"
)

// stampGraphHeaders sets the headers every Graph answer carries: a fresh
// request-id, the caller's client-request-id echoed (Graph mints one when
// absent), and Date from the emulator's clock.
func (e *Emulator) stampGraphHeaders(w http.ResponseWriter, r *http.Request) string {
	rid := uuid.NewString()
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = rid
	}
	h := w.Header()
	h.Set("request-id", rid)
	h.Set("client-request-id", crid)
	h.Set("Date", e.now().UTC().Format(http.TimeFormat))
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"emulator"}}`)
	return rid
}

// writeGraphError answers with Graph's error envelope.
func (e *Emulator) writeGraphError(w http.ResponseWriter, ge *graphError) {
	h := w.Header()
	for k, v := range ge.header {
		h.Set(k, v)
	}
	body := map[string]any{"error": map[string]any{
		"code":    ge.code,
		"message": ge.message,
		"innerError": map[string]string{
			"date":              e.now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        h.Get("request-id"),
			"client-request-id": h.Get("client-request-id"),
		},
	}}
	writeJSON(w, ge.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"generalException","message":"marshal"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// flushRecorded sends a response held in a recorder (so a "lost response"
// fault could decide, after the write was saved, to drop it instead).
func flushRecorded(rec *httptest.ResponseRecorder, w http.ResponseWriter) {
	h := w.Header()
	for k, v := range rec.Header() {
		h[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// abortConn closes the client connection without an answer: hijack on
// HTTP/1, a stream reset (ErrAbortHandler) where hijacking is impossible.
func abortConn(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}
