// Command kubectl-phoneop is the kubectl plugin of phoneop (`kubectl phoneop …`): it exports
// a tenant's existing phone methods to PhoneAuthMethods for Git, and reports the users whose
// only MFA methods are phones. It reads Microsoft Graph through phoneop's own client and
// per-tenant throttle, in batches, and never writes to Graph. Install it with
// `go install ./cmd/kubectl-phoneop` (or `make plugin`: bin/kubectl-phoneop) and put it on
// PATH. `kubectl phoneop --help` explains every flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/phoneop/phoneop/internal/graph"
)

// Exit codes scripts can branch on.
const (
	exitOK         = 0
	exitFailed     = 1 // nothing (or nothing complete) was produced
	exitUsage      = 2 // bad flags
	exitIncomplete = 3 // done, but some users could not be read: rerun (export --resume)
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// stdout is where commands print their results; tests capture it.
var stdout io.Writer = os.Stdout

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	// Every Graph request of the plugin is a bulk read that can wait: it goes out as
	// x-ms-throttle-priority low, so that under pressure Graph throttles it before the
	// manager's spec-driven work (graph.Priority).
	err := root.ExecuteContext(graph.WithPriority(context.Background(), graph.PriorityLow))
	var inc incompleteError
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &inc):
		fmt.Fprintln(os.Stderr, "kubectl phoneop:", err)
		return exitIncomplete
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "kubectl phoneop:", err)
		return exitUsage
	default:
		fmt.Fprintln(os.Stderr, "kubectl phoneop:", err)
		return exitFailed
	}
}

// usageError is a flag problem (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// incompleteError says the output is usable but some users could not be read (exit 3).
type incompleteError struct{ msg string }

func (e incompleteError) Error() string { return e.msg }
