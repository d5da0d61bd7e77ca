/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/phoneop/phoneop/internal/testharness"
)

// maxRecovery bounds convergence after an outage ends: the reconcilers cap their per-object
// backoff at a minute (controllers.maxRetryDelay), plus up to 30 s for the pass itself and, after
// an API-server restart, the informers' re-list (measured 56-78 s on a loaded 2-core machine).
const maxRecovery = 90 * time.Second

// Outages: each test runs in an isolated harness with the Graph proxy in front of the
// emulator, in parallel with the other outage tests (they spend most of their time waiting).
// Each logs, for the closing note, the Graph attempts per object during the outage and the
// time to converge after recovery.
//
// The bound they enforce on Graph attempts comes from two layers, neither of which loops hot:
//   - a reconcile makes at most 1+MaxRetries (5) attempts per Graph call, the retries spaced by
//     internal/graph's jittered exponential backoff (0.5 s doubling);
//   - a failed reconcile is retried on controller-runtime's per-object exponential backoff
//     (5 ms doubling, capped at 1000 s), so an object reconciles at most about
//     log2(outage/5 ms)+2 times during an outage.

const (
	graphAttemptsPerCall  = 5 // 1 + graph.DefaultLimits.MaxRetries
	tokenTriesPerGetToken = 4 // 1 + azcore's default MaxRetries, which azidentity applies to token requests
	firstRequeue          = 5 * time.Millisecond
)

// reconcilesWithin bounds the failed reconciles of one object during an outage of length d
// under exponential backoff from firstRequeue (doubling): the k-th retry comes no sooner
// than firstRequeue·(2^k−1) after the first failure.
func reconcilesWithin(d time.Duration) int {
	return int(math.Floor(math.Log2(float64(d)/float64(firstRequeue)+1))) + 1
}

// outageFor is how long an outage lasts; PHONEOP_OUTAGE (a Go duration) shortens or
// lengthens every outage, e.g. to 30s while working on these tests.
func outageFor(t *testing.T, def time.Duration) time.Duration {
	t.Helper()
	if v := os.Getenv("PHONEOP_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PHONEOP_OUTAGE: %v", err)
		}
		return d
	}
	return def
}

// numberSeq hands out distinct numbers (Graph refuses a number another user already has).
var numberSeq atomic.Int64

// outageScene is a tenant whose phones converged before the outage.
type outageScene struct {
	hs     *testharness.Harness
	m      *testharness.Manager
	tenant *testharness.Tenant
	done   []phone // converged before the outage
}

func newOutageScene(t *testing.T, name string, o testharness.Options, managerArgs ...string) *outageScene {
	t.Helper()
	o.GraphProxy = true
	hs := isolated(t, o)
	ctx := context.Background()
	g := NewWithT(t)
	m, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: name, Args: managerArgs})
	g.Expect(err).NotTo(HaveOccurred())
	s := &outageScene{hs: hs, m: m, tenant: &testharness.Tenant{Name: "contoso-" + name, Namespace: "team-" + name}}
	g.Expect(hs.CreateTenant(ctx, s.tenant)).To(Succeed())
	s.done = s.phones(t, "before", 2)
	applyPhones(t, hs, s.done...)
	waitPhonesReady(t, hs, eventually, s.done...)
	return s
}

// phones registers n users in the emulator and returns a mobile with a distinct number for each.
func (s *outageScene) phones(t *testing.T, prefix string, n int) []phone {
	t.Helper()
	var out []phone
	for i := 1; i <= n; i++ {
		p := phone{name: fmt.Sprintf("%s%d-mobile", prefix, i), namespace: s.tenant.Namespace, tenant: s.tenant.Name,
			user: fmt.Sprintf("%s%d@contoso.com", prefix, i), number: fmt.Sprintf("+1 425555%04d", 1000+numberSeq.Add(1))}
		if _, err := s.hs.AddUser(context.Background(), s.tenant.TenantID, p.user); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// metric reads one of the manager's metrics (summed over the samples matching labels).
func (s *outageScene) metric(g Gomega, family string, labels ...string) float64 {
	v, err := s.m.Metric(context.Background(), family, labels...)
	g.Expect(err).NotTo(HaveOccurred())
	return v
}

// failedAttempts is the manager's count of Graph attempts that got no answer or a 5xx.
func (s *outageScene) failedAttempts(g Gomega) float64 {
	page, err := s.m.Scrape(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	n := testharness.SumMetric(page, "phoneop_graph_requests_total", `code="error"`)
	for _, code := range []string{"500", "502", "503", "504"} {
		n += testharness.SumMetric(page, "phoneop_graph_requests_total", `code="`+code+`"`)
	}
	return n
}

// during samples the objects' Ready condition every 10 s for d and logs what the first says.
// Once an object has a Ready condition (its first pass may take a while: the Graph client
// retries inside it), that condition must say in one sentence what is down: Ready=False with
// wantReason and a message containing wantInMessage. Every object must have said so before
// the outage ends.
func (s *outageScene) during(t *testing.T, d time.Duration, wantReasons []string, wantInMessage []string, objs ...phone) {
	t.Helper()
	g := NewWithT(t)
	began := time.Now()
	told := map[string]time.Duration{}
	for lastLog := time.Duration(0); time.Since(began) < d; time.Sleep(min(d-time.Since(began), 10*time.Second)) {
		for _, p := range objs {
			st, reason, msg := currentReady(g, s.hs, p)
			if p == objs[0] && time.Since(began)-lastLog >= 20*time.Second {
				lastLog = time.Since(began)
				c := s.hs.Proxy.Counts()
				t.Logf("%s into the outage: %s Ready=%s %s: %q (proxy: %d token requests, %d failed; %d Graph calls)",
					time.Since(began).Round(time.Second), p.name, st, reason, msg, c.Token, c.TokenFailed, c.Graph)
			}
			if st == "" {
				continue
			}
			if _, ok := told[p.name]; !ok {
				told[p.name] = time.Since(began)
			}
			g.Expect(st).To(Equal("False"), "%s during the outage", p.name)
			g.Expect(reason).To(BeElementOf(wantReasons), "%s during the outage: %s", p.name, msg)
			g.Expect(msg).To(Or(containsAny(wantInMessage)...), "%s: the condition must say what is down", p.name)
			g.Expect(strings.Count(strings.TrimSuffix(msg, "."), ". ")).To(BeZero(), "%s: one sentence: %q", p.name, msg)
		}
	}
	for _, p := range objs {
		at, ok := told[p.name]
		g.Expect(ok).To(BeTrue(), "%s had no Ready condition for its generation by the end of the %s outage", p.name, d)
		t.Logf("%s: Ready=False for its generation after %s", p.name, at.Round(time.Second))
	}
}

func containsAny(subs []string) []types.GomegaMatcher {
	var out []types.GomegaMatcher
	for _, s := range subs {
		out = append(out, ContainSubstring(s))
	}
	return out
}

// currentReady is the Ready condition when it was set for the object's current generation
// (an older one says nothing about the spec now being worked on), else empty.
func currentReady(g Gomega, hs *testharness.Harness, p phone) (status, reason, message string) {
	out, err := tryKubectlOn(hs, "", "get", "pam", p.name, "-n", p.namespace, "-o", "json")
	g.Expect(err).NotTo(HaveOccurred())
	var o struct {
		Metadata struct{ Generation int64 } `json:"metadata"`
		Status   struct {
			Conditions []struct {
				Type, Status, Reason, Message string
				ObservedGeneration            int64 `json:"observedGeneration"`
			} `json:"conditions"`
		} `json:"status"`
	}
	g.Expect(json.Unmarshal([]byte(out), &o)).To(Succeed())
	for _, c := range o.Status.Conditions {
		if c.Type == "Ready" && c.ObservedGeneration == o.Metadata.Generation {
			return c.Status, c.Reason, c.Message
		}
	}
	return "", "", ""
}

// checkWrittenOnce asserts that every phone's user holds exactly one method, with its number.
func (s *outageScene) checkWrittenOnce(g Gomega, phones ...phone) {
	for _, p := range phones {
		methods, err := s.hs.PhoneMethods(context.Background(), s.tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(methods).To(HaveLen(1), p.user)
		g.Expect(methods[0].PhoneNumber).To(Equal(p.number), "%s's number", p.user)
	}
}

// TestOutageGraphUnreachable: Graph refuses connections for three minutes while three new
// phones wait to be created and a converged one waits for a new number.
func TestOutageGraphUnreachable(t *testing.T) {
	t.Parallel()
	outage := outageFor(t, 3*time.Minute)
	s := newOutageScene(t, "refused", testharness.Options{})
	ctx := context.Background()
	g := NewWithT(t)

	g.Expect(s.hs.Proxy.Refuse()).To(Succeed())
	waiting := s.phones(t, "during", 3)
	changed := s.done[0]
	changed.number = fmt.Sprintf("+1 425555%04d", 1000+numberSeq.Add(1))
	affected := append(append([]phone{}, waiting...), changed)
	failedBefore := s.failedAttempts(g)
	applyPhones(t, s.hs, affected...)
	s.during(t, outage, []string{"GraphError"}, []string{"Graph failed"}, affected...)

	attempts := s.failedAttempts(g) - failedBefore
	perObject := attempts / float64(len(affected))
	bound := graphAttemptsPerCall * reconcilesWithin(outage)
	g.Expect(s.hs.ResetEmulatorStats(ctx)).To(Succeed())
	g.Expect(s.hs.Proxy.Accept()).To(Succeed())
	took := waitPhonesReady(t, s.hs, outage+time.Minute, affected...)
	stats, err := s.hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	_, writes := stats.Graph()
	t.Logf("OUTAGE graph-refused %s: %.0f failed Graph attempts for %d objects = %.1f per object (bound %d); all Ready %s after recovery; %d writes after recovery\n%s",
		outage, attempts, len(affected), perObject, bound, took.Round(100*time.Millisecond), writes, stats)
	g.Expect(perObject).To(BeNumerically("<=", bound), "Graph attempts per object during the outage")
	// After recovery an object waits out the backoff step it was in, which is at most as
	// long as the outage so far (each step doubles): converging within a minute of recovery
	// needs a per-object backoff capped near a minute, which the controller does not set yet.
	g.Expect(took).To(BeNumerically("<", maxRecovery), "convergence after recovery")
	g.Expect(writes).To(Equal(len(affected)), "one write per object: three POSTs and one PATCH, nothing twice")
	g.Expect(stats.Count("POST", "/users/{id}/authentication/phoneMethods")).To(Equal(len(waiting)))
	s.checkWrittenOnce(g, append(affected, s.done[1])...)
}

// TestOutageTokenEndpoint: the token endpoint answers 503 for three minutes while Graph itself
// works. The emulator's tokens live 5 min 5 s, and azidentity renews a token 5 minutes before
// it expires, so every Graph call needs a fresh token and the outage bites at once.
func TestOutageTokenEndpoint(t *testing.T) {
	t.Parallel()
	outage := outageFor(t, 3*time.Minute)
	s := newOutageScene(t, "token", testharness.Options{EmulatorArgs: []string{"-token-ttl=5m5s"}})
	ctx := context.Background()
	g := NewWithT(t)

	s.hs.Proxy.FailTokens(http.StatusServiceUnavailable)
	time.Sleep(6 * time.Second) // the cached token is now due for renewal
	s.hs.Proxy.ResetCounts()
	waiting := s.phones(t, "during", 3)
	failedBefore := s.failedAttempts(g)
	applyPhones(t, s.hs, waiting...)
	// A failed token request comes back from azidentity only after its own retries, inside
	// each of the Graph client's five attempts, so an object's first pass takes about two
	// minutes before its condition is written. Whether azidentity's error classifies as
	// Transient (backoff) or Unauthorized (a retry a minute later), the condition names the
	// login endpoint, not Graph or the credentials' content.
	s.during(t, outage, []string{"TenantNotReady"}, []string{"login endpoint"}, waiting...)

	counts := s.hs.Proxy.Counts()
	graphAttempts := s.failedAttempts(g) - failedBefore
	perObject := float64(counts.Token) / float64(len(waiting))
	// Per reconcile: five Graph attempts, each a token request that azidentity tries 1+3
	// times; reconciles on the per-object backoff (Transient) or once a minute (Unauthorized).
	bound := graphAttemptsPerCall * tokenTriesPerGetToken * reconcilesWithin(outage)
	g.Expect(s.hs.ResetEmulatorStats(ctx)).To(Succeed())
	s.hs.Proxy.FailTokens(0)
	took := waitPhonesReady(t, s.hs, outage+time.Minute, waiting...)
	stats, err := s.hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	_, writes := stats.Graph()
	t.Logf("OUTAGE token-503 %s: %d token requests answered 503 for %d objects = %.1f per object (bound %d), %d Graph calls reached Graph, %.0f counted failed by the manager; all Ready %s after recovery; %d writes after recovery\n%s",
		outage, counts.TokenFailed, len(waiting), perObject, bound, counts.Graph, graphAttempts, took.Round(100*time.Millisecond), writes, stats)
	g.Expect(counts.Graph).To(BeZero(), "no Graph call goes out without a token")
	g.Expect(perObject).To(BeNumerically("<=", bound), "token requests per object during the outage")
	g.Expect(took).To(BeNumerically("<", maxRecovery), "convergence after recovery")
	g.Expect(writes).To(Equal(len(waiting)), "one POST per new phone, nothing twice")
	s.checkWrittenOnce(g, append(waiting, s.done...)...)
	st, reason, _ := tenantReady(g, s.hs, s.tenant.Name)
	g.Expect(st+"/"+reason).To(Equal("True/Synced"), "the EntraTenant stays Ready: its credentials were never the problem")
}

// TestOutageAPIServerRestart stops kube-apiserver under a running manager, the moment a
// create has been sent to Graph (the proxy holds it for two seconds, so its answer arrives
// while the API server is down and its status cannot be written), keeps it down for a minute,
// and starts it again on the same address.
func TestOutageAPIServerRestart(t *testing.T) {
	t.Parallel()
	outage := outageFor(t, time.Minute)
	s := newOutageScene(t, "apiserver", testharness.Options{})
	g := NewWithT(t)

	inflight := s.phones(t, "inflight", 1)[0]
	s.hs.Proxy.HoldWrites(2 * time.Second)
	s.hs.Proxy.ResetCounts()
	applyPhones(t, s.hs, inflight)
	g.Eventually(func() int { return s.hs.Proxy.Counts().GraphWrites }, eventually, 10*time.Millisecond).Should(Equal(1))
	g.Expect(s.hs.StopAPIServer()).To(Succeed())
	stopped := time.Now()
	atStop := s.hs.Proxy.Counts()
	s.hs.Proxy.HoldWrites(0)
	time.Sleep(outage - time.Since(stopped))
	during := s.hs.Proxy.Counts().Graph - atStop.Graph
	g.Expect(s.m.Running()).To(Succeed(), "the manager survives an API server outage")
	g.Expect(s.hs.StartAPIServer()).To(Succeed())

	late := s.phones(t, "after", 1)[0]
	applyPhones(t, s.hs, late)
	took := waitPhonesReady(t, s.hs, outage+time.Minute, inflight, late)
	waitPhonesReady(t, s.hs, eventually, s.done...)
	counts := s.hs.Proxy.Counts()
	perObject := float64(during) / float64(len(s.done)+1)
	bound := reconcilesWithin(outage)
	t.Logf("OUTAGE apiserver-down %s: %d Graph calls while it was down (%.1f per object, bound %d), %d writes in all (1 in flight when it stopped); in-flight and new objects Ready %s after the restart",
		outage, during, perObject, bound, counts.GraphWrites, took.Round(100*time.Millisecond))
	g.Expect(perObject).To(BeNumerically("<=", bound), "Graph calls per object while the API server was down")
	// As after a Graph outage, the in-flight object waits out its backoff step first.
	g.Expect(took).To(BeNumerically("<", maxRecovery), "convergence after the API server is back")
	g.Expect(counts.GraphWrites).To(Equal(2), "the in-flight create is not sent again; the new phone costs one")
	s.checkWrittenOnce(g, append(s.done, inflight, late)...)
}

// tenantReady returns an EntraTenant's Ready condition.
func tenantReady(g Gomega, hs *testharness.Harness, name string) (status, reason, message string) {
	out, err := tryKubectlOn(hs, "", "get", "entratenant", name, "-o",
		`jsonpath={range .status.conditions[?(@.type=="Ready")]}{.status}{"\t"}{.reason}{"\t"}{.message}{end}`)
	g.Expect(err).NotTo(HaveOccurred())
	parts := strings.SplitN(out, "\t", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}
