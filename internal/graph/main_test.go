package graph_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain prints the Graph-call cost of every scenario after the run, so
// the numbers can be quoted without -v.
func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv("GRAPH_COSTS") != "" {
		fmt.Println("Graph calls per scenario:")
		for _, l := range costs.lines {
			fmt.Println("  " + l)
		}
	}
	os.Exit(code)
}
