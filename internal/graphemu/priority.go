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

type priorityKey struct{ method, route, priority string }

// priorityTable is kept apart from the call stats so that the stats' rows (which tests and
// the bench compare whole) do not split by priority.
type priorityTable struct {
	mu sync.Mutex
	m  map[priorityKey]int
}

func newPriorityTable() *priorityTable { return &priorityTable{m: map[priorityKey]int{}} }

func (t *priorityTable) add(method, route, header string) {
	p := strings.ToLower(strings.TrimSpace(header))
	if p == "" {
		p = NoPriority
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[priorityKey{method, route, p}]++
}

func (t *priorityTable) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m = map[priorityKey]int{}
}

func (t *priorityTable) snapshot() []PriorityStat {
	t.mu.Lock()
	out := make([]PriorityStat, 0, len(t.m))
	for k, n := range t.m {
		out = append(out, PriorityStat{Method: k.method, Route: k.route, Priority: k.priority, Count: n})
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b PriorityStat) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Priority, b.Priority))
	})
	return out
}

// PriorityStats returns the Graph requests by method, route and the x-ms-throttle-priority
// they carried (NoPriority when none), sorted by route, method, priority. ResetStats zeroes
// them too.
func (e *Emulator) PriorityStats() []PriorityStat { return e.priorities.snapshot() }

// PriorityCount sums the requests matching method and route (either may be "" to match all)
// that carried priority ("low", "normal", "high" or NoPriority).
func (e *Emulator) PriorityCount(method, route, priority string) int {
	n := 0
	for _, s := range e.PriorityStats() {
		if (method == "" || s.Method == method) && (route == "" || s.Route == route) && s.Priority == priority {
			n += s.Count
		}
	}
	return n
}
