package graphemu_test

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
)

const faultRuns = 400

// noReuse is a client that opens a connection per request, so Go's
// transport never silently retries a GET whose reused connection dropped.
func (en *env) noReuse() *http.Client {
	tr := en.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr}
}

// outcome is a status code, or "err" when the connection was dropped.
func (en *env) outcome(t *testing.T, c *http.Client, method, path, body string) string {
	t.Helper()
	resp, err := en.send(method, path, en.token, body, c)
	if err != nil {
		return "err"
	}
	readAll(t, resp)
	if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	return strconv.Itoa(resp.StatusCode)
}

// TestFaultRates: with a fixed seed each fault type appears at its
// configured rate (within 3 standard deviations) and nowhere else.
func TestFaultRates(t *testing.T) {
	cases := []struct {
		name   string
		faults graphemu.Faults
		hit    []string // outcomes that count as the fault
		fault  string   // Stat.Fault recorded for it
	}{
		{"429", graphemu.Faults{Rate429: 0.25}, []string{"429"}, "429"},
		{"5xx", graphemu.Faults{Rate5xx: 0.25}, []string{"503", "504"}, "5xx"},
		{"drop", graphemu.Faults{RateDrop: 0.25}, []string{"err"}, "drop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{Seed: 7, DisableThrottling: true, Faults: tc.faults})
			c := en.noReuse()
			hits := 0
			for range faultRuns {
				o := en.outcome(t, c, "GET", phonePath(kimID), "")
				switch {
				case slices.Contains(tc.hit, o):
					hits++
				case o != "200":
					t.Fatalf("unexpected outcome %s", o)
				}
			}
			checkRate(t, hits, 0.25)
			if n := faultCount(en.e, tc.fault); n != hits {
				t.Fatalf("stats count %d faults %q, client saw %d", n, tc.fault, hits)
			}
		})
	}
}

// TestFaultLostResponse: the write is saved, then the connection drops.
func TestFaultLostResponse(t *testing.T) {
	en := newEnv(t, graphemu.Options{Seed: 7, DisableThrottling: true, Faults: graphemu.Faults{RateLostResponse: 0.25}})
	c := en.noReuse()
	lost := 0
	for range faultRuns {
		o := en.outcome(t, c, "POST", phonePath(kimID), create("office", num1))
		_, saved := en.methods(t, kimID)["office"]
		switch {
		case o == "err" && saved:
			lost++
		case o != "201" || !saved:
			t.Fatalf("outcome %s, saved %v", o, saved)
		}
		must(t, en.e.DeletePhoneMethod(tenantID, kimID, "office"))
	}
	checkRate(t, lost, 0.25)
	if n := faultCount(en.e, "lostResponse"); n != lost {
		t.Fatalf("stats lostResponse %d, client lost %d", n, lost)
	}
	// Reads are never "lost": there is nothing saved to lose.
	for range 50 {
		if o := en.outcome(t, c, "GET", phonePath(kimID), ""); o != "200" {
			t.Fatalf("GET outcome %s", o)
		}
	}
}

func checkRate(t *testing.T, hits int, rate float64) {
	t.Helper()
	got := float64(hits) / faultRuns
	if tol := 3 * math.Sqrt(rate*(1-rate)/faultRuns); math.Abs(got-rate) > tol {
		t.Fatalf("rate %.3f, want %.2f ± %.3f", got, rate, tol)
	}
}

func faultCount(e *graphemu.Emulator, fault string) int {
	n := 0
	for _, s := range e.Stats() {
		if s.Fault == fault {
			n += s.Count
		}
	}
	return n
}

// TestFaultsDeterministic: the same seed and request sequence give the
// same outcomes; another seed gives another sequence.
func TestFaultsDeterministic(t *testing.T) {
	f := graphemu.Faults{Rate429: 0.2, Rate5xx: 0.2, RateDrop: 0.2}
	run := func(seed int64) []string {
		en := newEnv(t, graphemu.Options{Seed: seed, DisableThrottling: true, Faults: f})
		c := en.noReuse()
		var out []string
		for range 60 {
			out = append(out, en.outcome(t, c, "GET", phonePath(kimID), ""))
		}
		return out
	}
	a, b, other := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	if slices.Equal(a, other) {
		t.Fatal("different seeds gave identical outcomes")
	}
}

// TestLatencyDeterministic: latency is Latency plus a seeded jitter in
// [0, Jitter). Checked on the decision, not by timing requests.
func TestLatencyDeterministic(t *testing.T) {
	f := graphemu.Faults{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}
	a := graphemu.New(graphemu.Options{Seed: 3, Faults: f})
	b := graphemu.New(graphemu.Options{Seed: 3, Faults: f})
	distinct := map[time.Duration]bool{}
	for range 100 {
		da, db := a.DrawDelay(false), b.DrawDelay(false)
		if da != db || da < f.Latency || da >= f.Latency+f.Jitter {
			t.Fatalf("delays %v %v", da, db)
		}
		distinct[da] = true
	}
	if len(distinct) < 50 {
		t.Fatalf("jitter barely varies: %d distinct values", len(distinct))
	}
}
