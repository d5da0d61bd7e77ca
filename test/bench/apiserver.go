package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// apiRequests is the kube-apiserver's own count of the requests it served
// (apiserver_request_total), summed over response codes, by "VERB resource[/subresource]",
// e.g. "PATCH phoneauthmethods/status". It counts every client's requests, the benchmark's
// creates and watches included: the difference of two scrapes is what one phase cost the
// API server, whoever asked.
type apiRequests map[string]float64

// mutatingVerbs are the verbs of apiserver_request_total that write to etcd (APPLY is a
// server-side-apply PATCH).
var mutatingVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

// scrapeAPIServer reads the kube-apiserver's /metrics with the control plane's admin identity.
func scrapeAPIServer(ctx context.Context, cfg *rest.Config) (apiRequests, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(cfg.Host, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kube-apiserver /metrics: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseAPIServerRequests(string(body))
}

// parseAPIServerRequests sums apiserver_request_total by verb and resource.
func parseAPIServerRequests(text string) (apiRequests, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	out := apiRequests{}
	for _, m := range fams["apiserver_request_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		resource := labels["resource"]
		if sub := labels["subresource"]; sub != "" {
			resource += "/" + sub
		}
		out[labels["verb"]+" "+resource] += m.GetCounter().GetValue()
	}
	return out, nil
}

// minus is the requests served since an earlier scrape.
func (a apiRequests) minus(before apiRequests) apiRequests {
	out := apiRequests{}
	for k, v := range a {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// writes keeps the mutating requests.
func (a apiRequests) writes() apiRequests {
	out := apiRequests{}
	for k, v := range a {
		verb, _, _ := strings.Cut(k, " ")
		if mutatingVerbs[verb] {
			out[k] = v
		}
	}
	return out
}

func (a apiRequests) total() float64 {
	t := 0.0
	for _, v := range a {
		t += v
	}
	return t
}

// perObject renders the requests per object, largest first, e.g.
// "3.00: POST phoneauthmethods 1.00, PATCH phoneauthmethods/status 1.00, POST events 1.00";
// entries under 0.005 per object (the control plane's own lease renewals) are left out of
// the list but stay in the total.
func (a apiRequests) perObject(objects int) string {
	if objects == 0 {
		return "—"
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if a[keys[i]] != a[keys[j]] {
			return a[keys[i]] > a[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		if per := a[k] / float64(objects); per >= 0.005 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, per))
		}
	}
	return fmt.Sprintf("%.2f (%s)", a.total()/float64(objects), strings.Join(parts, ", "))
}
