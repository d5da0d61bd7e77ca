package graph_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// recorder is a RoundTripper that keeps the headers of Graph requests and
// answers, to check what the client put on the wire.
type recorder struct {
	next http.RoundTripper

	mu       sync.Mutex
	requests []http.Header
	answers  []http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if strings.HasPrefix(req.URL.Path, "/v1.0/") {
		r.mu.Lock()
		r.requests = append(r.requests, req.Header.Clone())
		if resp != nil {
			r.answers = append(r.answers, resp.Header.Clone())
		}
		r.mu.Unlock()
	}
	return resp, err
}

// TestRequestHeaders: every request has a fresh client-request-id and our
// User-Agent, and a failure keeps Graph's request-id.
func TestRequestHeaders(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{next: f.env.HTTPClient().Transport}
	c := f.client(t, tenantA, func(c *graph.Config) { c.HTTPClient = &http.Client{Transport: rec} })
	ctx := testContext(t)
	for range 2 {
		if _, err := c.ListPhoneMethods(ctx, kimID); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.GetPhoneMethod(ctx, kimID, methodid.Office) // 404
	if !graph.IsNotFound(err) {
		t.Fatalf("err = %v, want NotFound", err)
	}

	seen := map[string]bool{}
	for i, h := range rec.requests {
		if ua := h.Get("User-Agent"); ua != "phoneop/"+graph.Version {
			t.Errorf("request %d User-Agent = %q, want phoneop/%s", i, ua, graph.Version)
		}
		id := h.Get("client-request-id")
		if _, err := uuid.Parse(id); err != nil || seen[id] {
			t.Errorf("request %d client-request-id %q is not a fresh UUID", i, id)
		}
		seen[id] = true
	}
	var ge *graph.Error
	if !asGraphError(err, &ge) {
		t.Fatal("not a *graph.Error")
	}
	last := rec.answers[len(rec.answers)-1]
	if ge.RequestID == "" || ge.RequestID != last.Get("request-id") {
		t.Errorf("Error.RequestID = %q, want Graph's %q", ge.RequestID, last.Get("request-id"))
	}
	if ge.ClientRequestID != rec.requests[len(rec.requests)-1].Get("client-request-id") {
		t.Errorf("Error.ClientRequestID = %q, want the one sent", ge.ClientRequestID)
	}
	f.recordCost(t)
}

// bend rewrites some emulator answers into shapes Graph has been seen to
// use: PATCH answered 200 with the object (older beta), and a
// smsSignInState this code has never heard of.
func bend(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferedResponse{header: http.Header{}}
		r.Header.Del("Accept-Encoding") // bend edits the answer's bytes, so they must not be gzipped
		next.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		body := rec.body.Bytes()
		status := rec.status
		if r.Method == http.MethodPatch && status == http.StatusNoContent {
			status, body = http.StatusOK, []byte(`{"id":"`+methodid.Mobile+`","phoneNumber":"`+numberKim2+`","phoneType":"mobile","smsSignInState":"ready"}`)
		}
		body = bytes.ReplaceAll(body, []byte(`"notSupported"`), []byte(`"someStateFromTheFuture"`))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(s int) {
	if b.status == 0 {
		b.status = s
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// TestTolerantDecoding: any 2xx is success, and unknown enum values pass
// through untouched.
func TestTolerantDecoding(t *testing.T) {
	f := newFixture(t, withWrap(bend))
	c := f.client(t, tenantA)
	ctx := testContext(t)
	for _, m := range []graphemu.PhoneMethod{{PhoneType: graphemu.Mobile, PhoneNumber: numberKim}, {PhoneType: graphemu.Office, PhoneNumber: numberKim2}} {
		if err := f.env.Emulator.SetPhoneMethod(tenantA, kimID, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.UpdatePhoneNumber(ctx, kimID, methodid.Mobile, "mobile", numberKim2); err != nil {
		t.Errorf("PATCH answered 200 with a body: %v", err)
	}
	office, err := c.GetPhoneMethod(ctx, kimID, methodid.Office)
	if err != nil {
		t.Fatal(err)
	}
	if office.SMSSignInState != "someStateFromTheFuture" {
		t.Errorf("smsSignInState = %q, want the unknown value passed through", office.SMSSignInState)
	}
	f.recordCost(t)
}

// TestMetrics: requests are counted by operation and status, throttling is
// counted, and no label carries a user id or UPN.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	graph.RegisterMetrics(reg)
	f := newFixture(t)
	c := f.client(t, tenantA, noRetries)
	ctx := testContext(t)
	if _, err := c.ListPhoneMethods(ctx, kimID); err != nil {
		t.Fatal(err)
	}
	f.env.Emulator.SetFaults(graphemu.Faults{Rate429: 1})
	if _, err := c.GetUser(ctx, kimUPN); !graph.IsThrottled(err) {
		t.Fatalf("err = %v, want Throttled", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, leak := range []string{kimID, kimUPN, "2065550100"} {
					if strings.Contains(l.GetValue(), leak) {
						t.Errorf("%s label %s=%q leaks %q", mf.GetName(), l.GetName(), l.GetValue(), leak)
					}
				}
			}
			if mf.GetName() == "phoneop_graph_requests_total" {
				found[labelValue(m.GetLabel(), "operation")+" "+labelValue(m.GetLabel(), "code")] = true
			}
			if mf.GetName() == "phoneop_graph_throttled_total" && labelValue(m.GetLabel(), "operation") == "getUser" {
				found["throttled getUser"] = true
			}
		}
	}
	for _, want := range []string{"listPhoneMethods 200", "getUser 429", "throttled getUser"} {
		if !found[want] {
			t.Errorf("no sample for %q", want)
		}
	}
}

func labelValue[L interface {
	GetName() string
	GetValue() string
}](labels []L, name string) string {
	for _, l := range labels {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
