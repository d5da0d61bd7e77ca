package graph_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graphemu"
)

func TestPriorityFromContext(t *testing.T) {
	cases := map[string]struct {
		ctx  context.Context
		want graph.Priority
	}{
		"a plain context is normal":        {ctx: context.Background(), want: graph.PriorityNormal},
		"low is carried":                   {ctx: graph.WithPriority(context.Background(), graph.PriorityLow), want: graph.PriorityLow},
		"the innermost priority wins":      {ctx: graph.WithPriority(graph.WithPriority(context.Background(), graph.PriorityLow), graph.PriorityNormal), want: graph.PriorityNormal},
		"an unknown value changes nothing": {ctx: graph.WithPriority(graph.WithPriority(context.Background(), graph.PriorityLow), "urgent"), want: graph.PriorityLow},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := graph.PriorityFrom(tc.ctx); got != tc.want {
				t.Errorf("PriorityFrom = %q, want %q", got, tc.want)
			}
		})
	}
}

// Every Graph request carries x-ms-throttle-priority, as the emulator saw it: normal by
// default, low for reads (each part of a $batch too) in a low context, and never low for a
// write, whatever the context.
func TestRequestsCarryTheirPriority(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, tenantA)
	ctx := testContext(t)
	emu := f.env.Emulator

	if _, err := c.ListPhoneMethods(ctx, kimID); err != nil {
		t.Fatal(err)
	}
	if n := emu.PriorityCount(http.MethodGet, graphemu.RoutePhoneList, "normal"); n != 1 {
		t.Errorf("a read without a priority in its context: %d normal, want 1 (%+v)", n, emu.PriorityStats())
	}

	emu.ResetStats()
	low := graph.WithPriority(ctx, graph.PriorityLow)
	if _, err := c.ListPhoneMethods(low, kimID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPhoneMethodsBatch(low, []string{kimID, kimUPN}); err != nil {
		t.Fatal(err)
	}
	if n := emu.PriorityCount(http.MethodGet, graphemu.RoutePhoneList, "low"); n != 3 {
		t.Errorf("low reads: %d low GETs (one alone, two batch parts), want 3 (%+v)", n, emu.PriorityStats())
	}
	if n := emu.PriorityCount(http.MethodPost, graphemu.RouteBatch, "low"); n != 1 {
		t.Errorf("the batch envelope of low reads: %d low, want 1 (%+v)", n, emu.PriorityStats())
	}

	emu.ResetStats()
	if _, err := c.CreatePhoneMethod(low, kimID, graph.PhoneTypeMobile, numberKim); err != nil {
		t.Fatal(err)
	}
	if n, lows := emu.PriorityCount(http.MethodPost, graphemu.RoutePhoneList, "normal"), emu.PriorityCount("", "", "low"); n != 1 || lows != 0 {
		t.Errorf("a write in a low context: %d normal, %d low, want 1 and 0 (%+v)", n, lows, emu.PriorityStats())
	}
}
