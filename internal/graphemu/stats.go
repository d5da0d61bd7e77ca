package graphemu

import (
	"cmp"
	"slices"
	"sync"
)

// statKey is one counted combination. tenant is lower-case ("" when the
// request named no tenant the emulator could trust).
type statKey struct {
	tenant        string
	method, route string
	status        int
	fault         string
}

// statsTable counts answered calls so tests and benchmarks can assert what
// a scenario cost, overall or per tenant.
type statsTable struct {
	mu sync.Mutex
	m  map[statKey]int
}

func newStatsTable() *statsTable { return &statsTable{m: map[statKey]int{}} }

func (s *statsTable) add(tenant, method, route string, status int, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[statKey{lower(tenant), method, route, status, fault}]++
}

func (s *statsTable) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = map[statKey]int{}
}

// resetTenant forgets one tenant's counts and keeps the others'.
func (s *statsTable) resetTenant(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk := lower(tenant)
	for k := range s.m {
		if k.tenant == tk {
			delete(s.m, k)
		}
	}
}

// snapshot is the global view: each row sums the counts of every tenant
// (Stat.Tenant stays ""), so totals do not depend on how many tenants there are.
func (s *statsTable) snapshot() []Stat {
	return s.collect(func(statKey) bool { return true }, "")
}

// tenantSnapshot is one tenant's rows, labelled with the id as asked.
func (s *statsTable) tenantSnapshot(tenant string) []Stat {
	tk := lower(tenant)
	return s.collect(func(k statKey) bool { return k.tenant == tk }, tenant)
}

// collect sums the kept keys by (method, route, status, fault) and sorts
// the result by route, method, status, fault.
func (s *statsTable) collect(keep func(statKey) bool, label string) []Stat {
	s.mu.Lock()
	sums := map[statKey]int{}
	for k, n := range s.m {
		if keep(k) {
			k.tenant = label
			sums[k] += n
		}
	}
	s.mu.Unlock()
	out := make([]Stat, 0, len(sums))
	for k, n := range sums {
		out = append(out, Stat{Tenant: k.tenant, Method: k.method, Route: k.route, Status: k.status, Fault: k.fault, Count: n})
	}
	slices.SortFunc(out, func(a, b Stat) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method),
			cmp.Compare(a.Status, b.Status), cmp.Compare(a.Fault, b.Fault))
	})
	return out
}

// countMatching sums the Count of stats matching method and route (either
// may be "" to match all).
func countMatching(stats []Stat, method, route string) int {
	n := 0
	for _, s := range stats {
		if (method == "" || s.Method == method) && (route == "" || s.Route == route) {
			n += s.Count
		}
	}
	return n
}
