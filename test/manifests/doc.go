// Package manifests tests what phoneop ships for running it in a cluster: the kustomize install
// (config/default), the Helm chart (charts/phoneop), the Argo CD health checks and the
// Prometheus rules and dashboard (docs/, config/prometheus/). Manifests are rendered inside the
// tests, never read from dist/, so a stale build cannot pass, and are server-side dry-run
// against the test control plane (envtest), so anything the API server would reject fails.
package manifests
