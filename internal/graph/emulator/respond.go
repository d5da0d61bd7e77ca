package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"

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

// bufferWriter holds a response so a "lost response" fault can decide,
// after the write was saved, to drop it instead of sending it. Headers go
// straight to the real writer's map.
type bufferWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.h }
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// flushTo sends the held response.
func (b *bufferWriter) flushTo(w http.ResponseWriter) {
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
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
