package budget

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// The inputs of the change-budget alert and dashboard panel, one series per tenant id.
var (
	destructiveDesc = prometheus.NewDesc("phoneop_change_budget_remaining",
		"Destructive Graph writes (number changes, deletes, SMS sign-in changes of existing phones) a tenant may still make in the rolling hour.",
		[]string{"tenant"}, nil)
	createsDesc = prometheus.NewDesc("phoneop_create_budget_remaining",
		"New phones (creates for users who had none of the type) a tenant may still get in the rolling hour.",
		[]string{"tenant"}, nil)
)

// Collector reports every connected tenant's remaining change budget at scrape time.
type Collector struct {
	Reader  client.Reader
	Budgets *Ledger
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- destructiveDesc
	ch <- createsDesc
}

// Collect implements prometheus.Collector. A tenant id named by two EntraTenants (the
// Conflict case) is reported once, for the EntraTenant that owns it: duplicate series would
// make the registry fail the whole scrape, silencing every alert.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list identityv1alpha1.EntraTenantList
	if err := c.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return // the cache is not synced yet
	}
	for _, t := range Owners(list.Items) {
		for _, p := range []struct {
			pool  Pool
			limit int
			desc  *prometheus.Desc
		}{
			{Destructive, t.Spec.ChangeBudget.DestructiveWritesPerHour(), destructiveDesc},
			{Creates, t.Spec.ChangeBudget.CreatesPerHour(), createsDesc},
		} {
			left, err := c.Budgets.Remaining(ctx, t.Spec.TenantID, p.pool, p.limit)
			if err != nil {
				continue // no value rather than a made-up one; the API server will answer again
			}
			ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(left), strings.ToLower(t.Spec.TenantID))
		}
	}
}

// Owners returns, for each tenant id, the EntraTenant that owns it: the oldest, ties broken by
// name (the rule of the EntraTenant Conflict check), in the order of the list.
func Owners(tenants []identityv1alpha1.EntraTenant) []*identityv1alpha1.EntraTenant {
	owner := map[string]*identityv1alpha1.EntraTenant{}
	var order []string
	for i := range tenants {
		t := &tenants[i]
		id := strings.ToLower(t.Spec.TenantID)
		cur, seen := owner[id]
		if !seen {
			order = append(order, id)
		}
		if !seen || olderThan(t, cur) {
			owner[id] = t
		}
	}
	out := make([]*identityv1alpha1.EntraTenant, 0, len(order))
	for _, id := range order {
		out = append(out, owner[id])
	}
	return out
}

// olderThan orders EntraTenants as the Conflict check does: creation time, then name.
func olderThan(a, b *identityv1alpha1.EntraTenant) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}
