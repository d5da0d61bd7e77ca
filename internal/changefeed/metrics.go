package changefeed

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/budget"
)

// The change feed's metrics, labelled by Entra tenant id only. enabled and healthy are
// reported for every tenant id, so the alert's inputs exist on every scrape; lag and the
// counters for each tenant whose feed runs in this process. Two EntraTenants naming one
// tenant id (the Conflict case) report once, for the EntraTenant that owns the id (the
// oldest, as the EntraTenant reconciler decides): a second series with the same labels would
// make the registry fail the whole scrape.
var (
	feedEnabledDesc = prometheus.NewDesc("phoneop_change_feed_enabled",
		"1 when the EntraTenant's spec.changeFeed is enabled, else 0.", []string{"tenant"}, nil)
	feedHealthyDesc = prometheus.NewDesc("phoneop_change_feed_healthy",
		"1 while the tenant's change feed reads the audit log (ChangeFeed=True: objects sweep every sweepPeriod), else 0 (failing, starting, or off).", []string{"tenant"}, nil)
	feedLagDesc = prometheus.NewDesc("phoneop_change_feed_lag_seconds",
		"Seconds since the start of the last successful poll of the tenant's audit log (the watermark); about pollInterval while healthy.", []string{"tenant"}, nil)
	feedEntriesDesc = prometheus.NewDesc("phoneop_change_feed_entries_total",
		"Audit log entries the change feed read, each once (phoneop's own writes included).", []string{"tenant"}, nil)
	feedWokenDesc = prometheus.NewDesc("phoneop_change_feed_users_woken_total",
		"Managed users the change feed sent to re-read Graph because someone else changed their phone methods.", []string{"tenant"}, nil)
	feedUnattributedDesc = prometheus.NewDesc("phoneop_change_feed_unattributed_writes_total",
		"Audit log entries made with phoneop's app id that no write of this manager accounts for: suspected use of phoneop's credential outside phoneop.", []string{"tenant"}, nil)
)

// Collector reports the change feeds at scrape time, from the informer cache and the
// feeds' memory, so reconciles pay nothing for the numbers.
type Collector struct {
	Reader client.Reader
	Feeds  *Feeds
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{feedEnabledDesc, feedHealthyDesc, feedLagDesc, feedEntriesDesc, feedWokenDesc, feedUnattributedDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list identityv1alpha1.EntraTenantList
	if err := c.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return // the cache is not synced yet
	}
	for _, t := range budget.Owners(list.Items) {
		id := strings.ToLower(t.Spec.TenantID) // spelled as the budget series spell it, so alerts can join them
		enabled := t.Spec.ChangeFeed.IsEnabled()
		ch <- prometheus.MustNewConstMetric(feedEnabledDesc, prometheus.GaugeValue, boolValue(enabled), id)
		snap, running := c.Feeds.Snapshot(t.Name)
		ch <- prometheus.MustNewConstMetric(feedHealthyDesc, prometheus.GaugeValue, boolValue(enabled && running && snap.Healthy), id)
		if !enabled || !running {
			continue
		}
		ch <- prometheus.MustNewConstMetric(feedLagDesc, prometheus.GaugeValue, max(c.Feeds.now().Sub(snap.Watermark).Seconds(), 0), id)
		ch <- prometheus.MustNewConstMetric(feedEntriesDesc, prometheus.CounterValue, float64(snap.Entries), id)
		ch <- prometheus.MustNewConstMetric(feedWokenDesc, prometheus.CounterValue, float64(snap.Woken), id)
		ch <- prometheus.MustNewConstMetric(feedUnattributedDesc, prometheus.CounterValue, float64(snap.Unattributed), id)
	}
}

// Snapshot is what a scrape reads of one feed.
type Snapshot struct {
	Healthy   bool
	Watermark time.Time
	// Entries counts the new audit entries read; Woken the users re-read because of them;
	// Unattributed the entries made with phoneop's app id that this manager did not make.
	Entries, Woken, Unattributed uint64
}

// Snapshot returns the named tenant's feed as a scrape sees it; false when none runs here (a
// standby, or the feed is off).
func (f *Feeds) Snapshot(tenant string) (Snapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	feed, ok := f.feeds[tenant]
	if !ok {
		return Snapshot{}, false
	}
	return Snapshot{Healthy: feed.health.healthy(), Watermark: feed.watermark, Entries: feed.entries, Woken: feed.woken, Unattributed: feed.unattributed}, true
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
