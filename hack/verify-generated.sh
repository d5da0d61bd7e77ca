#!/usr/bin/env bash
# verify-generated.sh fails when `make manifests generate` changes any generated file, so that
# CRDs, RBAC and deepcopy in Git always match the markers they are generated from.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
generated=(config/crd/bases config/rbac/role.yaml api/v1alpha1/zz_generated.deepcopy.go)
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
for p in "${generated[@]}"; do
  mkdir -p "$before/$(dirname "$p")"
  [ -e "$p" ] && cp -r "$p" "$before/$p"
done
make --no-print-directory manifests generate >/dev/null
status=0
for p in "${generated[@]}"; do
  if ! diff -r "$before/$p" "$p" >/dev/null 2>&1; then
    echo "verify-generated: $p changed when regenerated; run 'make manifests generate' and commit the result" >&2
    status=1
  fi
done
exit $status
