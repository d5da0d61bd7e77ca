package graph

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric labels are the operation, the HTTP status and the tenant id only:
// never a user id, a UPN or a phone number.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phoneop_graph_requests_total",
		Help: "Graph HTTP requests by operation and status code (\"error\" when no answer arrived).",
	}, []string{"operation", "code"})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "phoneop_graph_request_duration_seconds",
		Help:    "Latency of Graph HTTP requests by operation.",
		Buckets: prometheus.ExponentialBuckets(0.025, 2, 11), // 25 ms .. ~25 s
	}, []string{"operation"})

	throttledTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phoneop_graph_throttled_total",
		Help: "Graph 429 answers, each of which paused its tenant, by operation.",
	}, []string{"operation"})

	tenantPauseDesc = prometheus.NewDesc("phoneop_graph_tenant_pause_seconds",
		"Time left before requests of a tenant may resume after throttling.", []string{"tenant"}, nil)
)

// RegisterMetrics registers the package's collectors with reg; the manager
// passes controller-runtime's registry, which it serves on /metrics.
// Collectors already registered there are skipped, so calling it twice is
// harmless.
func RegisterMetrics(reg prometheus.Registerer) {
	for _, c := range []prometheus.Collector{requestsTotal, requestDuration, throttledTotal, pauseCollector{DefaultThrottles}} {
		if err := reg.Register(c); err != nil {
			if _, dup := err.(prometheus.AlreadyRegisteredError); !dup {
				panic(err)
			}
		}
	}
}

// observe records one HTTP attempt.
func observe(op, code string, start time.Time) {
	requestsTotal.WithLabelValues(op, code).Inc()
	requestDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// pauseCollector reports each tenant's remaining pause at scrape time, so the
// gauge falls back to zero without anyone having to reset it.
type pauseCollector struct{ throttles *Throttles }

func (p pauseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- tenantPauseDesc }

func (p pauseCollector) Collect(ch chan<- prometheus.Metric) {
	for tenant, d := range p.throttles.pauses() {
		ch <- prometheus.MustNewConstMetric(tenantPauseDesc, prometheus.GaugeValue, d.Seconds(), tenant)
	}
}
