package bench

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/phoneop/phoneop/internal/testharness"
)

// faultNotUniqueUnsaved is the emulator's Stat.Fault of a write it answered 409
// phoneNumberNotUnique without saving (-rate-not-unique-unsaved).
const faultNotUniqueUnsaved = "notUniqueUnsaved"

// tenantStats reads one tenant's Graph call counts (GET /_emulator/stats?tenant=).
func tenantStats(ctx context.Context, h *testharness.Harness, tenantID string) (testharness.Stats, error) {
	var s testharness.Stats
	err := h.EmulatorAdmin(ctx, http.MethodGet, "stats?tenant="+url.QueryEscape(tenantID), nil, &s)
	return s, err
}

// statsMinus is the calls counted between two readings, entry by entry.
func statsMinus(after, before testharness.Stats) testharness.Stats {
	type key struct {
		method, route string
		status        int
		fault         string
	}
	prior := map[key]int{}
	for _, s := range before {
		prior[key{s.Method, s.Route, s.Status, s.Fault}] += s.Count
	}
	var diff testharness.Stats
	for _, s := range after {
		s.Count -= prior[key{s.Method, s.Route, s.Status, s.Fault}]
		if s.Count != 0 {
			diff = append(diff, s)
		}
	}
	return diff
}

// graphOps is a tenant's Graph calls (users' routes; token, discovery and the $batch envelope
// excluded) by operation.
type graphOps struct {
	// calls counts every answer, injected faults and 429s included.
	calls map[string]int
	// injected counts the writes answered 409 phoneNumberNotUnique without saving.
	injected map[string]int
	// failed counts the other writes answered neither 2xx nor 429 (none are expected).
	failed    map[string]int
	throttled int // answers 429, any operation
}

func opsOf(s testharness.Stats) graphOps {
	g := graphOps{calls: map[string]int{}, injected: map[string]int{}, failed: map[string]int{}}
	for _, st := range s {
		if !strings.HasPrefix(st.Route, "/users/") {
			continue
		}
		op := opName(st.Method, st.Route)
		g.calls[op] += st.Count
		switch {
		case st.Status == http.StatusTooManyRequests:
			g.throttled += st.Count
		case st.Fault == faultNotUniqueUnsaved:
			g.injected[op] += st.Count
		case isWriteOp(op) && st.Status/100 != 2:
			g.failed[op] += st.Count
		}
	}
	return g
}

// writes counts the Graph writes that count against the needed actions: every write
// request Graph answered (429s and failures included), except the injected conflicts.
func (g graphOps) writes(op string) int { return g.calls[op] - g.injected[op] }

func (g graphOps) totalWrites() int {
	n := 0
	for op := range g.calls {
		if isWriteOp(op) {
			n += g.writes(op)
		}
	}
	return n
}

// allWrites counts every write request, injected conflicts included.
func (g graphOps) allWrites() int {
	n := 0
	for op, c := range g.calls {
		if isWriteOp(op) {
			n += c
		}
	}
	return n
}

func (g graphOps) totalInjected() int {
	n := 0
	for _, c := range g.injected {
		n += c
	}
	return n
}

func (g graphOps) reads() int {
	n := 0
	for op, c := range g.calls {
		if !isWriteOp(op) {
			n += c
		}
	}
	return n
}

// plus adds two counts (two tenants, two phases).
func (g graphOps) plus(o graphOps) graphOps {
	out := graphOps{calls: map[string]int{}, injected: map[string]int{}, failed: map[string]int{}, throttled: g.throttled + o.throttled}
	for _, m := range []graphOps{g, o} {
		for k, v := range m.calls {
			out.calls[k] += v
		}
		for k, v := range m.injected {
			out.injected[k] += v
		}
		for k, v := range m.failed {
			out.failed[k] += v
		}
	}
	return out
}

// tenantReading is both tenants' counts at one moment.
type tenantReading struct{ main, masked testharness.Stats }

func readTenants(ctx context.Context, h *testharness.Harness, mainID, maskedID string) (tenantReading, error) {
	m, err := tenantStats(ctx, h, mainID)
	if err != nil {
		return tenantReading{}, err
	}
	k, err := tenantStats(ctx, h, maskedID)
	return tenantReading{main: m, masked: k}, err
}

// phaseOps is what one phase cost in each tenant.
type phaseOps struct{ main, masked graphOps }

func (r tenantReading) minus(before tenantReading) phaseOps {
	return phaseOps{main: opsOf(statsMinus(r.main, before.main)), masked: opsOf(statsMinus(r.masked, before.masked))}
}
