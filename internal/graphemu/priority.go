package graphemu

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// PriorityHeader is the request header Graph's identity-and-access throttling reads
// (x-ms-throttle-priority: low, normal or high; low is throttled first). The emulator does
// not throttle by it (Graph does not document how much it changes, and whether the
// phone-method backend honours it at all is unverified); it records what each Graph request
// said, so tests can assert which traffic a client marks as able to wait.
const PriorityHeader = "x-ms-throttle-priority"

// NoPriority is the Priority of a request that sent no x-ms-throttle-priority header.
const NoPriority = "none"

// PriorityStat counts Graph requests (each part of a $batch on its own, and the envelope
// too) by method, route template and the priority they sent, lower-cased.
type PriorityStat struct {
	Method   string `json:"method"`
	Route    string `json:"route"`
	Priority string `json:"priority"`
	Count    int    `json:"count"`
}

type priorityKey struct{ tenant, method, route, priority string }

// priorityTable is kept apart from the call stats so that the stats' rows (which tests and
// the bench compare whole) do not split by priority.
type priorityTable struct {
	mu sync.Mutex
	m  map[priorityKey]int
}

func newPriorityTable() *priorityTable { return &priorityTable{m: map[priorityKey]int{}} }

func (t *priorityTable) add(tenant, method, route, header string) {
	p := strings.ToLower(strings.TrimSpace(header))
	if p == "" {
		p = NoPriority
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[priorityKey{lower(tenant), method, route, p}]++
}

func (t *priorityTable) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m = map[priorityKey]int{}
}

// resetTenant forgets one tenant's counts and keeps the others'.
func (t *priorityTable) resetTenant(tenant string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk := lower(tenant)
	for k := range t.m {
		if k.tenant == tk {
			delete(t.m, k)
		}
	}
}

// snapshot sums the rows of the tenants keep accepts (lower-case ids; "" for requests no
// tenant could be told for).
func (t *priorityTable) snapshot(keep func(tenant string) bool) []PriorityStat {
	t.mu.Lock()
	sums := map[priorityKey]int{}
	for k, n := range t.m {
		if keep(k.tenant) {
			k.tenant = ""
			sums[k] += n
		}
	}
	t.mu.Unlock()
	out := make([]PriorityStat, 0, len(sums))
	for k, n := range sums {
		out = append(out, PriorityStat{Method: k.method, Route: k.route, Priority: k.priority, Count: n})
	}
	slices.SortFunc(out, func(a, b PriorityStat) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Priority, b.Priority))
	})
	return out
}

// PriorityStats returns the Graph requests by method, route and the x-ms-throttle-priority
// they carried (NoPriority when none), sorted by route, method, priority. ResetStats zeroes
// them too.
func (e *Emulator) PriorityStats() []PriorityStat {
	return e.priorities.snapshot(func(string) bool { return true })
}

// TenantPriorityStats is PriorityStats for one tenant's requests (the tenant of the bearer
// token, as TenantStats counts them).
func (e *Emulator) TenantPriorityStats(tenantID string) []PriorityStat {
	tk := lower(tenantID)
	return e.priorities.snapshot(func(t string) bool { return t == tk })
}

// PriorityCount sums the requests matching method and route (either may be "" to match all)
// that carried priority ("low", "normal", "high" or NoPriority).
func (e *Emulator) PriorityCount(method, route, priority string) int {
	return priorityCount(e.PriorityStats(), method, route, priority)
}

// TenantPriorityCount is PriorityCount for one tenant's requests.
func (e *Emulator) TenantPriorityCount(tenantID, method, route, priority string) int {
	return priorityCount(e.TenantPriorityStats(tenantID), method, route, priority)
}

func priorityCount(stats []PriorityStat, method, route, priority string) int {
	n := 0
	for _, s := range stats {
		if (method == "" || s.Method == method) && (route == "" || s.Route == route) && s.Priority == priority {
			n += s.Count
		}
	}
	return n
}
