package graph

import "context"

// Priority is the x-ms-throttle-priority a request carries. Graph's throttling docs
// ("Additional headers") say identity-and-access requests accept low, normal and high, and
// that under pressure low-priority traffic is throttled first. The phone-method backend is
// not among the resources that page lists, so whether it honours the header is unmeasured:
// phoneop sends it because it costs nothing and says truthfully which traffic can wait.
type Priority string

// Priorities.
const (
	// PriorityLow is traffic that can wait: resync sweeps, the change feed's polls, and the
	// plugin's export and report.
	PriorityLow Priority = "low"
	// PriorityNormal is what a request carries unless its context says otherwise: reads and
	// writes that follow a spec change.
	PriorityNormal Priority = "normal"
	// PriorityHigh is documented by Graph; phoneop sends it nowhere today.
	PriorityHigh Priority = "high"
)

// PriorityHeader is the request header Graph reads the priority from.
const PriorityHeader = "x-ms-throttle-priority"

type priorityKey struct{}

// WithPriority returns a context whose Graph requests carry p. An unknown value is ignored
// (the requests keep the priority they had).
func WithPriority(ctx context.Context, p Priority) context.Context {
	if !p.valid() {
		return ctx
	}
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom is the priority ctx's requests carry: PriorityNormal unless WithPriority said
// otherwise.
func PriorityFrom(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok {
		return p
	}
	return PriorityNormal
}

// requestPriority is what a request sends. A write is never sent low: a write is the point
// of a pass (a drift correction found by a low-priority sweep included), and letting Graph
// throttle it first would only leave the user's phone wrong for longer.
func requestPriority(ctx context.Context, write bool) Priority {
	p := PriorityFrom(ctx)
	if p == PriorityLow && write {
		return PriorityNormal
	}
	return p
}

func (p Priority) valid() bool {
	return p == PriorityLow || p == PriorityNormal || p == PriorityHigh
}
