//go:build tools

// Package tools pins the tools built by hack/tools/build.sh; the blank imports keep them in
// go.mod and go.sum.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
