// Package tenantconn is phoneop's one connection to an Entra tenant, shared by the manager
// (controllers) and the kubectl plugin (cmd/kubectl-phoneop):
//
//   - SecretSource reads an EntraTenant's credential from its Secrets in the operator's
//     namespace, or takes workload identity, which has no Secret;
//   - Dial turns the tenant and that credential into internal/graph's client for the tenant's
//     cloud, and Connector caches one Connection per tenant until its spec or its Secret changes;
//   - the grant checks (NamespaceAllowed, UserNotDenied, UserDomainInScope, run in order by
//     EvaluateGrant) decide whether a namespace and a user may use the tenant.
//
// Why one package: the plugin used to re-implement the manager's credential read and its
// namespace check, and the two had begun to differ. What the plugin reports about a tenant
// ("these objects will be Forbidden", "this Secret has no such key") is now what the manager
// will do. The package knows Kubernetes only as a client.Reader and Graph only through
// internal/graph; it holds no controller logic.
package tenantconn
