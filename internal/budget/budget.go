package budget

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// budgetWindow is the rolling window of a tenant's change budget.
const budgetWindow = time.Hour

// Ledger caps each tenant's destructive Graph writes (number changes and deletes of
// phones that already exist) per rolling hour, so that a bad commit cannot strip or rewrite
// thousands of MFA phones at once: past the cap, objects wait (ChangeBudgetExceeded) instead of
// writing. A write takes its slot before it is sent and keeps it whatever the answer, since a
// failed PATCH or DELETE may still have been applied.
//
// The ledger lives in the process, shared by every worker: a restarted manager starts with a
// full budget, so at most twice the cap can be spent in the hour around a restart.
type Ledger struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	writes map[string][]time.Time // tenant id (lower case) → destructive writes in the window
}

// Take reserves one destructive write for the tenant under limit. When none is left, it
// returns how long until the oldest write in the window leaves it.
func (b *Ledger) Take(tenantID string, limit int) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	key := strings.ToLower(tenantID)
	recent := b.recentLocked(key, now)
	if limit <= 0 {
		return false, budgetWindow // a cap of 0: only raising it helps
	}
	if len(recent) >= limit {
		// One write frees up when the oldest writes beyond limit-1 have left the window.
		return false, recent[len(recent)-limit].Add(budgetWindow).Sub(now)
	}
	if b.writes == nil {
		b.writes = map[string][]time.Time{}
	}
	b.writes[key] = append(recent, now)
	return true, 0
}

// Remaining returns how many destructive writes the tenant may still make in the window.
func (b *Ledger) Remaining(tenantID string, limit int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(limit-len(b.recentLocked(strings.ToLower(tenantID), b.now())), 0)
}

// recentLocked drops the tenant's writes older than the window and returns the rest, oldest
// first.
func (b *Ledger) recentLocked(key string, now time.Time) []time.Time {
	all := b.writes[key]
	i := 0
	for i < len(all) && !all[i].After(now.Add(-budgetWindow)) {
		i++
	}
	if i > 0 {
		all = append([]time.Time(nil), all[i:]...)
		if b.writes != nil {
			b.writes[key] = all
		}
	}
	return all
}

func (b *Ledger) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// budgetDesc is the input of the change-budget alert and dashboard panel.
var budgetDesc = prometheus.NewDesc("phoneop_change_budget_remaining",
	"Destructive Graph writes (number changes, deletes) a tenant may still make in the rolling hour.",
	[]string{"tenant"}, nil)

// Collector reports every EntraTenant's remaining change budget at scrape time.
type Collector struct {
	Reader  client.Reader
	Budgets *Ledger
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- budgetDesc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list identityv1alpha1.EntraTenantList
	if err := c.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return // the cache is not synced yet
	}
	for i := range list.Items {
		t := &list.Items[i]
		left := c.Budgets.Remaining(t.Spec.TenantID, t.Spec.ChangeBudget.DestructiveWritesPerHour())
		ch <- prometheus.MustNewConstMetric(budgetDesc, prometheus.GaugeValue, float64(left), t.Spec.TenantID)
	}
}
