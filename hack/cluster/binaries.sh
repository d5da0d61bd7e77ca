#!/usr/bin/env bash
# binaries.sh builds the node's Kubernetes binaries (kubelet, kube-proxy,
# kube-controller-manager, kube-scheduler) and CoreDNS, and caches them under bin/k8s/<version>/
# beside hack/control-plane.sh's kube-apiserver and etcd, so every checkout shares them.
# Built from the Go module proxy the way control-plane.sh builds kube-apiserver: a throwaway
# module requiring k8s.io/kubernetes with each k8s.io/* staging module pinned to its published
# v0.x release, and ONE go build so the packages the four share compile once.
#
# Usage: hack/cluster/binaries.sh        # prints the directory
# Env:   K8S_VERSION (default v1.37.2, the control plane's), COREDNS_VERSION (default v1.15.0)
set -euo pipefail
# Test equipment, shipped nowhere: built with the machine's own Go (whose build cache already
# holds it), not the Makefile's GOTOOLCHAIN for phoneop's own binaries. Under make that Go is
# PHONEOP_EQUIPMENT_GOROOT: a go test run (the cluster suite calls these) puts its own
# toolchain first on PATH and in GOROOT.
if [ -n "${PHONEOP_EQUIPMENT_GOROOT:-}" ]; then export GOROOT="$PHONEOP_EQUIPMENT_GOROOT" PATH="$PHONEOP_EQUIPMENT_GOROOT/bin:$PATH"; fi
export GOTOOLCHAIN=local

K8S_VERSION=${K8S_VERSION:-v1.37.2}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/bin/k8s/$K8S_VERSION"
mkdir -p "$dir"
NODE_CMDS=(kubelet kube-proxy kube-controller-manager kube-scheduler)

log() { echo "cluster-binaries: $*" >&2; }

missing_node_cmds() {
  local c
  for c in "${NODE_CMDS[@]}"; do [ -x "$dir/$c" ] || echo "$c"; done
}

build_node_cmds() {
  local work gomod cmds=("$@")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "building ${cmds[*]} $K8S_VERSION (cold: ~9 min on 2 cores; warm: ~30 s)"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module phoneop.dev/k8s-node-build"
    echo "go 1.26.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    # Read the staging list from kubernetes' go.mod, never hard-coded (as control-plane.sh).
    grep -E '^\s*k8s.io/[^ ]+ => \./staging/' "$gomod" | awk -v v="v0${K8S_VERSION#v1}" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  local c pkgs=()
  {
    echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
    for c in "${cmds[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ')'
  } >"$work/tools.go"
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  mkdir "$work/out"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)" \
    -o "$work/out/" "${pkgs[@]}")
  # Moved into place only when all built: a half-finished build never looks cached.
  for c in "${cmds[@]}"; do mv "$work/out/$c" "$dir/$c"; done
}

# CoreDNS with only the plugins a test cluster needs (the full build pulls every cloud SDK);
# no forward plugin, so no query leaves the node.
build_coredns() {
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "building coredns $COREDNS_VERSION (cold: ~3 min)"
  printf 'module phoneop.dev/coredns-build\ngo 1.26.0\nrequire github.com/coredns/coredns %s\n' "$COREDNS_VERSION" >"$work/go.mod"
  cat >"$work/main.go" <<'GO'
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"

	"github.com/coredns/coredns/coremain"
)

func main() { coremain.Run() }
GO
  (cd "$work" && go mod tidy >/dev/null 2>&1)
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/coredns.tmp" .)
  mv "$dir/coredns.tmp" "$dir/coredns"
}

mapfile -t todo < <(missing_node_cmds)
[ ${#todo[@]} -eq 0 ] || build_node_cmds "${todo[@]}"
[ -x "$dir/coredns" ] || build_coredns
echo "$dir"
