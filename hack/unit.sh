#!/usr/bin/env bash
# unit.sh runs every test that needs no control plane (go test -short: the tests that need
# kube-apiserver and etcd skip themselves), in the operator and its nested modules, and prints
# how many ran. It needs nothing built or installed: make unit.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for dir in "$root" $(printf "$root/%s " ${NESTED_MODULES:-hack/image test/bench}); do
  (cd "$dir" && go test -short -count=1 -v ./...) >>"$log" 2>&1 || status=1
done
# Only the package verdicts and the failures with their messages are shown; the full log is
# kept on failure.
awk '/^(ok|FAIL|panic:)/ && !/no test files/ {print; f=0; next}
     /^[ \t]*--- FAIL/ {print; f=1; next}
     /^[ \t]*--- (PASS|SKIP)|^=== / {f=0; next}
     f {print}' "$log"
passed=$(grep -c '^--- PASS' "$log")
skipped=$(grep -c '^--- SKIP' "$log")
if [ "$status" -ne 0 ]; then
  cp "$log" "$root/bin/unit.log" 2>/dev/null && echo "unit: the full log is in bin/unit.log"
fi
echo "unit: $passed tests passed without a control plane ($skipped skipped: they need one, or minutes of building; make test runs them)"
exit $status
