package graphemu_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// kiotaBody is a create body as Microsoft's SDKs send it: with the
// entity's @odata.type.
func kiotaBody(typ, number string) string {
	return `{"@odata.type":"#microsoft.graph.phoneAuthenticationMethod","phoneType":"` + typ + `","phoneNumber":"` + number + `"}`
}

func compress(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "raw deflate":
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		must(t, err)
		w = fw
	default:
		buf.Write(b)
		return buf.Bytes()
	}
	_, err := w.Write(b)
	must(t, err)
	must(t, w.Close())
	return buf.Bytes()
}

// raw sends a Graph request with the given headers and body bytes, and
// reads the body exactly as sent (no transparent decompression: the
// transport only undoes gzip it asked for itself).
func (en *env) raw(t *testing.T, method, path string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, en.srv.URL+path, bytes.NewReader(body))
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+en.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := en.srv.Client().Do(req)
	must(t, err)
	return resp, readAll(t, resp)
}

// TestEncodedRequestBodies: Graph accepts bodies compressed as kiota's
// CompressionHandler sends them, with @odata.type in them.
func TestEncodedRequestBodies(t *testing.T) {
	cases := map[string]struct {
		header, encoding string // Content-Encoding sent; how the body is encoded
		status           int
		code             string
	}{
		"gzip (kiota)":                  {"gzip", "gzip", 201, ""},
		"deflate (zlib, RFC 9110)":      {"deflate", "deflate", 201, ""},
		"deflate sent as a raw stream":  {"deflate", "raw deflate", 201, ""},
		"identity":                      {"identity", "none", 201, ""},
		"no Content-Encoding":           {"", "none", 201, ""},
		"header says gzip, body is not": {"gzip", "none", 400, "BadRequest"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true})
			hdr := map[string]string{}
			if tc.header != "" {
				hdr["Content-Encoding"] = tc.header
			}
			body := compress(t, tc.encoding, []byte(kiotaBody("mobile", num1)))
			resp, b := en.raw(t, "POST", phonePath(kimID), hdr, body)
			if resp.StatusCode != tc.status || (tc.code != "" && errCode(b) != tc.code) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if _, saved := en.methods(t, kimID)["mobile"]; saved != (tc.status == 201) {
				t.Fatalf("saved %v after %d", saved, resp.StatusCode)
			}
		})
	}
}

// TestGzipPatchAndBatch: compressed PATCH bodies and $batch payloads too.
func TestGzipPatchAndBatch(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num1}))
	gz := map[string]string{"Content-Encoding": "gzip"}
	resp, b := en.raw(t, "PATCH", mobilePath, gz, compress(t, "gzip", []byte(kiotaBody("mobile", num2))))
	if resp.StatusCode != 204 || en.methods(t, kimID)["mobile"].PhoneNumber != num2 {
		t.Fatalf("gzip patch: %d %s", resp.StatusCode, b)
	}
	batch := `{"requests":[{"id":"1","method":"GET","url":"/users/` + kimID + `/authentication/phoneMethods"}]}`
	resp, b = en.raw(t, "POST", "/v1.0/$batch", gz, compress(t, "gzip", []byte(batch)))
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"status":200`)) {
		t.Fatalf("gzip batch: %d %s", resp.StatusCode, b)
	}
}

// TestGzipResponses: answers with a body are gzipped when the client
// accepts gzip; bodiless answers and clients that don't are not.
func TestGzipResponses(t *testing.T) {
	cases := map[string]struct {
		method, path, accept string
		wantGzip             bool
	}{
		"list, client accepts gzip":     {"GET", phonePath(kimID), "gzip", true},
		"list, among other codings":     {"GET", phonePath(kimID), "br, gzip;q=0.8, deflate", true},
		"list, any coding":              {"GET", phonePath(kimID), "*", true},
		"list, gzip refused with q=0":   {"GET", phonePath(kimID), "gzip;q=0, identity", false},
		"list, identity only":           {"GET", phonePath(kimID), "identity", false},
		"error envelope is gzipped too": {"GET", phonePath("nobody"), "gzip", true},
		"204 has no body to compress":   {"POST", mobilePath + "/disableSmsSignIn", "gzip", false},
		"token endpoint is not Graph":   {"GET", "/" + tenantID + "/v2.0/.well-known/openid-configuration", "gzip", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true})
			must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num1}))
			resp, b := en.raw(t, tc.method, tc.path, map[string]string{"Accept-Encoding": tc.accept}, nil)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip %v", resp.Header.Get("Content-Encoding"), tc.wantGzip)
			}
			if !tc.wantGzip {
				return
			}
			zr, err := gzip.NewReader(bytes.NewReader(b))
			must(t, err)
			plain, err := io.ReadAll(zr)
			must(t, err)
			if !json.Valid(plain) {
				t.Fatalf("gunzipped body is not JSON: %q", plain)
			}
		})
	}
}

// TestGoClientUnpacksGzip: Go's transport asks for gzip by itself and
// hands back plain JSON, so ordinary clients see no difference.
func TestGoClientUnpacksGzip(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	resp, b := en.do(t, "GET", phonePath(kimID), en.token, "")
	if !resp.Uncompressed || !json.Valid(b) {
		t.Fatalf("transparent gzip: uncompressed=%v body %q", resp.Uncompressed, b)
	}
}
