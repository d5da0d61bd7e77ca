#!/usr/bin/env bash
# control-plane.sh builds the kube-apiserver and etcd that envtest needs and caches them under
# bin/k8s/<version>/. The envtest download site is unreachable from our machines, so both are
# built from the Go module proxy (see ../shared/control-plane.md for the measurements).
#
# Usage: hack/control-plane.sh            # prints the asset directory (for KUBEBUILDER_ASSETS)
# Env:   K8S_VERSION (default v1.37.2, same minor as go.mod's k8s.io/* v0.37.x)
#        ETCD_VERSION (default v3.6.16)
# Idempotent: when both binaries exist it only prints the directory.
set -euo pipefail
# Test equipment, shipped nowhere: built with the machine's own Go (whose build cache already
# holds it), not the Makefile's GOTOOLCHAIN for phoneop's own binaries. Under make that Go is
# PHONEOP_EQUIPMENT_GOROOT: a go test run (the cluster suite calls these) puts its own
# toolchain first on PATH and in GOROOT.
if [ -n "${PHONEOP_EQUIPMENT_GOROOT:-}" ]; then export GOROOT="$PHONEOP_EQUIPMENT_GOROOT" PATH="$PHONEOP_EQUIPMENT_GOROOT/bin:$PATH"; fi
export GOTOOLCHAIN=local

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/bin/k8s/$K8S_VERSION"
mkdir -p "$dir"

log() { echo "control-plane: $*" >&2; }

build_kube_apiserver() {
  local work staging_version
  staging_version="v0${K8S_VERSION#v1}" # v1.37.2 -> v0.37.2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "building kube-apiserver $K8S_VERSION (cold: ~10-12 min on 2 cores)"
  local modjson gomod
  modjson=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
  gomod=$(echo "$modjson" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module phoneop.dev/kube-apiserver-build"
    echo "go 1.26.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    # Every k8s.io/* staging module that kubernetes' go.mod points at ./staging is pinned to
    # its published v0.x release instead. Read from the go.mod, never hard-coded.
    grep -E '^\s*k8s.io/[^ ]+ => \./staging/' "$gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)" \
    -o "$dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
}

build_etcd() {
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "building etcd $ETCD_VERSION (cold: ~1.5 min)"
  cat >"$work/go.mod" <<GOMOD
module phoneop.dev/etcd-build
go 1.26.0
require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat >"$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && go mod tidy >/dev/null 2>&1)
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/etcd.tmp" .)
  mv "$dir/etcd.tmp" "$dir/etcd"
}

[ -x "$dir/etcd" ] || build_etcd
[ -x "$dir/kube-apiserver" ] || build_kube_apiserver
echo "$dir"
