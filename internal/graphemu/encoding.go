package graphemu

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// readBody reads a Graph request body, undoing the Content-Encoding Graph
// accepts: kiota's default CompressionHandler (Microsoft's SDKs) gzips
// every request body. The cap applies to the decoded size, so a small
// compressed body cannot expand without bound. Other encodings are read
// as they are, as before.
func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	case "deflate":
		zr, err := deflateReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	return io.ReadAll(io.LimitReader(rd, maxRequestBody))
}

// deflateReader reads HTTP "deflate", which RFC 9110 defines as zlib but
// which some clients send as a raw deflate stream: a zlib header decides.
func deflateReader(body io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(body)
	if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (uint(h[0])<<8|uint(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (a
// listed "gzip" or "*" whose q is not 0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// gzipPool recycles compressors: a gzip.Writer holds hundreds of KiB of
// tables, too much to allocate per answer under a benchmark's load.
// BestSpeed keeps the CPU cost small; Graph's ratio is not the point.
var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // the level is valid
	return w
}}

// gzipWriter compresses an answer that has a body. It starts only when
// the status is written, so a request whose connection is dropped, or
// whose response is lost, sends nothing at all.
type gzipWriter struct {
	http.ResponseWriter
	gz          *gzip.Writer // nil until a status with a body is written
	wroteHeader bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if g.wroteHeader {
		return
	}
	g.wroteHeader = true
	h := g.Header()
	if bodyAllowed(code) && h.Get("Content-Encoding") == "" {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		h.Add("Vary", "Accept-Encoding")
		g.gz = gzipPool.Get().(*gzip.Writer)
		g.gz.Reset(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// finish ends the gzip stream, if one was started.
func (g *gzipWriter) finish() {
	if g.gz != nil {
		_ = g.gz.Close()
		gzipPool.Put(g.gz)
		g.gz = nil
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// bodyAllowed: 1xx, 204 and 304 answers carry no body to compress.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}
