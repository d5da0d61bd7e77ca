// Package fairqueue queues PhoneAuthMethods fairly between tenants. The work queue hands out the highest priority first and is first-in
// first-out within a priority. Without more, a tenant onboarding 10,000 objects puts them
// all ahead of another tenant's objects created a moment later, and that tenant waits for
// the whole backlog to pass through the workers once — over a minute even when most of it is
// only deferred for the first tenant's write budget. So an object is queued at a priority
// that falls with the number of its tenant's objects that are pending (queued or deferred and
// not yet converged): a tenant with a small backlog goes ahead of one with a large backlog,
// and a tenant's own objects stay in order. Like Flux's and Cluster API's use of the same
// queue, this orders work, it never drops it.
//
// The handlers here are functions of a Backlog: the reconciler owns one, marks objects done
// as they converge, and queues deferred objects back at their tenant's priority.
package fairqueue
