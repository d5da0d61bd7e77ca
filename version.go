package main

import (
	"crypto/fips140"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/phoneop/phoneop/internal/graph"
)

// showVersion is a package-level flag, not an options field, so that --version works without
// touching parseFlags: main calls exitOnVersion right after parsing.
var showVersion = flag.Bool("version", false, "Print the version, the Go toolchain, the platform and whether the FIPS 140-3 module is enabled, then exit.")

// buildRevision is the git commit, set by make release (-X main.buildRevision=...): the Go
// toolchain stamps vcs.revision itself only where VCS stamping is on, and machines with
// GOFLAGS=-buildvcs=false (this project's among them) leave it out.
var buildRevision string

// exitOnVersion prints the version line and exits when --version was given. The release test
// (hack/release) and `make image FIPS=1`'s check read this line, so keep its keys stable.
func exitOnVersion() {
	if !*showVersion {
		return
	}
	printVersion(os.Stdout)
	os.Exit(0)
}

// printVersion writes one line of key=value pairs. fips140 is crypto/fips140.Enabled(): true
// when the binary was built with GOFIPS140 (or runs with GODEBUG=fips140=on), so a bank can
// check the image it runs rather than trust how it was built.
func printVersion(w io.Writer) {
	revision := buildRevision
	if bi, ok := debug.ReadBuildInfo(); ok && revision == "" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	if revision == "" {
		revision = "unknown"
	}
	fmt.Fprintf(w, "phoneop version=%s revision=%s go=%s platform=%s/%s fips140=%t\n",
		graph.Version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH, fips140.Enabled())
}
