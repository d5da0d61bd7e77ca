// Package objectmetrics counts PhoneAuthMethods by namespace and readiness for Prometheus
// (phoneop_phoneauthmethods), computed from the informer cache at scrape time so that the
// numbers are never stale and reconciles pay nothing for them.
package objectmetrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// objectsDesc counts PhoneAuthMethods by namespace, readiness and reason: the input of the
// "not Ready for 30 minutes" alert. Labels never carry a user or a number.
var objectsDesc = prometheus.NewDesc("phoneop_phoneauthmethods",
	"PhoneAuthMethods by namespace, Ready status and Ready reason.",
	[]string{"namespace", "ready", "reason"}, nil)

// Collector computes phoneop_phoneauthmethods from the informer cache on each scrape,
// so the numbers are never stale and reconciles pay nothing for them.
type Collector struct {
	Reader client.Reader
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- objectsDesc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list identityv1alpha1.PhoneAuthMethodList
	// The cache's objects are only read here, so skip the deep copy of every object.
	if err := c.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return // the cache is not synced yet; the next scrape will count
	}
	type key struct{ namespace, ready, reason string }
	counts := map[key]float64{}
	for i := range list.Items {
		k := key{namespace: list.Items[i].Namespace, ready: "Unknown", reason: ""}
		if c := meta.FindStatusCondition(list.Items[i].Status.Conditions, identityv1alpha1.ConditionReady); c != nil {
			k.ready, k.reason = string(c.Status), c.Reason
		}
		counts[k]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, n, k.namespace, k.ready, k.reason)
	}
}
