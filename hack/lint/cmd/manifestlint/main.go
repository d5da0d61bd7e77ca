// Command manifestlint lints rendered manifests (files, or stdin for "-") with phoneop's policy
// and exits 1 on any finding:
//
//	kubectl kustomize config/default | go -C hack/lint run ./cmd/manifestlint -
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/phoneop/phoneop/hack/lint"
)

func main() {
	l, err := lint.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "manifestlint:", err)
		os.Exit(2)
	}
	found := 0
	for _, path := range os.Args[1:] {
		var data []byte
		if path == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "manifestlint:", err)
			os.Exit(2)
		}
		findings, err := l.Lint(context.Background(), data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "manifestlint: %s: %v\n", path, err)
			os.Exit(2)
		}
		for _, f := range findings {
			fmt.Printf("%s: %s\n", path, f)
		}
		found += len(findings)
	}
	if found > 0 {
		os.Exit(1)
	}
}
