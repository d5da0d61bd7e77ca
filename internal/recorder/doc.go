// Package recorder records the Kubernetes Events phoneop emits (for a Graph write that changes
// what a user had, a drift correction or a warning transition; controllers/events.go) as
// events.k8s.io/v1 Events, grouped into series as client-go does, without keeping a copy of
// every Event it sent: at onboarding scale that copy was a tenth of the manager's heap. Writes
// happen off the reconcile path, from a bounded queue.
package recorder
