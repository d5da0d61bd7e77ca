package emulator

import (
	"cmp"
	"slices"
	"sync"
)

type statKey struct {
	method, route string
	status        int
	fault         string
}

// statsTable counts answered calls so tests and benchmarks can assert what
// a scenario cost.
type statsTable struct {
	mu sync.Mutex
	m  map[statKey]int
}

func newStatsTable() *statsTable { return &statsTable{m: map[statKey]int{}} }

func (s *statsTable) add(method, route string, status int, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[statKey{method, route, status, fault}]++
}

func (s *statsTable) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = map[statKey]int{}
}

func (s *statsTable) snapshot() []Stat {
	s.mu.Lock()
	out := make([]Stat, 0, len(s.m))
	for k, n := range s.m {
		out = append(out, Stat{Method: k.method, Route: k.route, Status: k.status, Fault: k.fault, Count: n})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Stat) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method),
			cmp.Compare(a.Status, b.Status), cmp.Compare(a.Fault, b.Fault))
	})
	return out
}
