package controllers

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// apiWrite is one kind of write request to the API server: the namespace it was sent to, the
// resource (and subresource) it wrote and the HTTP method.
type apiWrite struct {
	namespace, resource, subresource, method string
}

func (w apiWrite) String() string {
	r := w.resource
	if w.subresource != "" {
		r += "/" + w.subresource
	}
	return w.method + " " + r
}

// apiWriteCounter counts the write requests (POST, PUT, PATCH, DELETE) the suite's clients send
// to the API server, by namespace: a test reads the writes of its own namespace only, whatever
// other tests do meanwhile. The manager's clients (the reconcilers' and the Event recorder's)
// and the tests' own client share the rest config it wraps.
type apiWriteCounter struct {
	mu     sync.Mutex
	writes map[apiWrite]int
}

// apiWrites counts every write of the suite's manager (startSuite wraps its rest config).
var apiWrites = &apiWriteCounter{}

// wrap is a rest.Config WrapTransport.
func (c *apiWriteCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if w, ok := writeOf(req); ok {
			c.mu.Lock()
			if c.writes == nil {
				c.writes = map[apiWrite]int{}
			}
			c.writes[w]++
			c.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// inNamespace returns the counts of the writes sent to a namespace.
func (c *apiWriteCounter) inNamespace(namespace string) map[apiWrite]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[apiWrite]int{}
	for w, n := range c.writes {
		if w.namespace == namespace {
			out[w] += n
		}
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// writeOf classifies a namespaced write request by its path:
// /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]] or /apis/GROUP/VERSION/namespaces/NS/RESOURCE[/NAME[/SUB]].
func writeOf(req *http.Request) (apiWrite, bool) {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return apiWrite{}, false
	}
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] != "namespaces" {
			continue
		}
		w := apiWrite{namespace: parts[i+1], resource: parts[i+2], method: req.Method}
		if i+4 < len(parts) {
			w.subresource = parts[i+4]
		}
		return w, true
	}
	return apiWrite{}, false
}

// onboardingObjects is N of the onboarding measurement: enough objects that per-object
// numbers are not one object's accident, few enough for the shared suite.
const onboardingObjects = 50

// TestOnboardingWritesPerOrphanObject onboards onboardingObjects new phones with the default
// deletionPolicy (Orphan) and counts the API-server writes the manager made for them, from its
// own requests (by namespace) and from kube-apiserver's apiserver_request_total. An Orphan
// object needs no finalizer and a new phone is no news: the one write per object is its status.
// Run alone to read the numbers (the server-wide metric also counts other tests' writes):
//
//	go test ./controllers -run TestOnboardingWritesPerOrphanObject -v
func TestOnboardingWritesPerOrphanObject(t *testing.T) {
	f := newFixture(t)
	before := apiServerWrites(t)
	objects := make([]*identityv1alpha1.PhoneAuthMethod, 0, onboardingObjects)
	for i := range onboardingObjects {
		upn := fmt.Sprintf("onboard-%d@contoso.com", i)
		f.addUser(upn)
		p := f.pam(fmt.Sprintf("onboard-%d-mobile", i), upn, identityv1alpha1.PhoneTypeMobile, fmt.Sprintf("+1 20655%05d", 10000+i))
		f.create(p)
		objects = append(objects, p)
	}
	for _, p := range objects {
		f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
	}
	flushEvents(f)

	writes := apiWrites.inNamespace(f.namespace)
	server := apiServerWrites(t).minus(before)
	t.Logf("API-server writes for %d Orphan objects (the manager's requests in the namespace; the test's creates are the POSTs of phoneauthmethods):\n%s",
		onboardingObjects, perObject(writes, onboardingObjects))
	t.Logf("kube-apiserver apiserver_request_total, writes during the test (server-wide):\n%s", server.perObject(onboardingObjects))

	f.g.Expect(writes[apiWrite{f.namespace, "phoneauthmethods", "", http.MethodPost}]).To(Equal(onboardingObjects), "the test's creates")
	f.g.Expect(writes[apiWrite{f.namespace, "phoneauthmethods", "", http.MethodPatch}]).To(BeZero(), "an Orphan object needs no finalizer")
	f.g.Expect(writes[apiWrite{f.namespace, "events", "", http.MethodPost}]+writes[apiWrite{f.namespace, "events", "", http.MethodPatch}]).
		To(BeZero(), "creating a new object's phone is no news: no Event")
	f.g.Expect(writes[apiWrite{f.namespace, "phoneauthmethods", "status", http.MethodPatch}]).To(BeNumerically(">=", onboardingObjects), "each object's status")
}

// flushEvents waits until the Event recorder has written everything queued before now: it
// records a marker Event after them and waits for it on the API server. The marker lives in
// the credentials namespace, so that it counts neither among the fixture's Events nor among
// its namespace's writes.
func flushEvents(f *fixture) {
	f.t.Helper()
	marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("event-marker-%d", fixtureSeq.Add(1)), Namespace: credentialsNamespace}}
	f.create(marker)
	reconciler.Recorder.Eventf(marker, nil, corev1.EventTypeNormal, "Marker", "Test", "marks the end of the Events recorded before it")
	f.g.Eventually(func() bool {
		var list corev1.EventList
		f.g.Expect(k8s.List(f.ctx, &list, client.InNamespace(marker.Namespace))).To(Succeed())
		for _, e := range list.Items {
			if e.InvolvedObject.Name == marker.Name {
				return true
			}
		}
		return false
	}, eventually, poll).Should(BeTrue(), "the marker Event was never written")
}

// perObject prints the counts, and each divided by n, sorted.
func perObject(writes map[apiWrite]int, n int) string {
	keys := make([]string, 0, len(writes))
	byKey := map[string]int{}
	for w, c := range writes {
		byKey[w.String()] += c
	}
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-36s %5d  %.2f per object\n", k, byKey[k], float64(byKey[k])/float64(n))
	}
	return b.String()
}

// serverWrites is kube-apiserver's apiserver_request_total for write verbs, by verb, resource and
// subresource.
type serverWrites map[string]float64

// apiServerWrites scrapes kube-apiserver's /metrics.
func apiServerWrites(t *testing.T) serverWrites {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(restConfig)
	if err != nil {
		t.Fatalf("a client for kube-apiserver's /metrics: %v", err)
	}
	body, err := dc.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("reading kube-apiserver's /metrics: %v", err)
	}
	out := serverWrites{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		labels, value, _ := strings.Cut(strings.TrimPrefix(line, "apiserver_request_total{"), "} ")
		l := metricLabels(labels)
		switch l["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
		default:
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		out[key] += v
	}
	return out
}

func (s serverWrites) minus(before serverWrites) serverWrites {
	out := serverWrites{}
	for k, v := range s {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func (s serverWrites) perObject(n int) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-36s %5.0f  %.2f per object\n", k, s[k], s[k]/float64(n))
	}
	return b.String()
}

// metricLabels parses a Prometheus label set (name="value",…); the values here hold no commas
// or escaped quotes.
func metricLabels(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}
