#!/usr/bin/env bash
# build.sh builds a tool pinned in hack/tools/go.mod into bin/ and prints its path. The binary's
# name carries the pinned version, so bumping go.mod rebuilds it and a warm bin/ costs nothing.
#
# Usage: hack/tools/build.sh helm     # prints e.g. /…/bin/helm-v3.22.0
# First build: about a minute on 2 cores with a warm module cache (helm pulls in client-go).
set -euo pipefail
# Test equipment, shipped nowhere: built with the machine's own Go (whose build cache already
# holds it), not the Makefile's GOTOOLCHAIN for phoneop's own binaries. Under make that Go is
# PHONEOP_EQUIPMENT_GOROOT: a go test run (the cluster suite calls these) puts its own
# toolchain first on PATH and in GOROOT.
if [ -n "${PHONEOP_EQUIPMENT_GOROOT:-}" ]; then export GOROOT="$PHONEOP_EQUIPMENT_GOROOT" PATH="$PHONEOP_EQUIPMENT_GOROOT/bin:$PATH"; fi
export GOTOOLCHAIN=local
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

case "${1:-}" in
  helm)
    module=helm.sh/helm/v3
    pkg=$module/cmd/helm
    ;;
  *)
    echo "usage: $0 helm" >&2
    exit 2
    ;;
esac

version=$(cd "$here" && go list -m -f '{{.Version}}' "$module")
out="$root/bin/$1-$version"
if [ ! -x "$out" ]; then
  echo "tools: building $1 $version into bin/ (first time only)" >&2
  mkdir -p "$root/bin"
  # Build to a temporary name and rename: concurrent test packages may race to build.
  tmp=$(mktemp "$root/bin/.$1-XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  # The same -X flags as helm's own Makefile: its version, and the Kubernetes version `helm
  # template` assumes (.Capabilities.KubeVersion), taken from the client-go it is built with.
  minor=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
  ldflags="-X $module/internal/version.version=$version"
  for p in pkg/chartutil pkg/lint/rules; do
    ldflags+=" -X $module/$p.k8sVersionMajor=1 -X $module/$p.k8sVersionMinor=$minor"
  done
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg")
  mv -f "$tmp" "$out"
fi
echo "$out"
