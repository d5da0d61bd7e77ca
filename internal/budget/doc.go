// Package budget is the change budget: per tenant id and rolling hour, a cap on the risky Graph
// writes phoneop makes, so that a bad commit or a compromised namespace cannot strip, rewrite
// or add thousands of MFA phones at once, and the metrics that show what is left of it.
//
// Two pools, each with its own cap (EntraTenant spec.changeBudget):
//   - Destructive: number changes, deletes of existing phones, and SMS sign-in changes (enable
//     or disable) of a phone that existed before the pass;
//   - Creates: a new phone for a user who had none of the type, generous by default so that
//     onboarding does not crawl.
//
// # Where the ledger lives, and why a Lease
//
// The ledger is one coordination.k8s.io Lease per tenant id (phoneop-budget-<tenant id>) in
// the manager's namespace; each pool's tokens of the rolling hour sit in an annotation, counted
// per second (at most 3600 entries per pool, whatever the cap). A Lease rather than the
// EntraTenant's status because:
//   - the budget belongs to the tenant id, not to one EntraTenant: two EntraTenants naming one
//     tenant id, or a tenant recreated under a new name, share it;
//   - a tenant-admin with write access to EntraTenant status (or the change feed's status
//     writer) cannot reset it, and the manager's namespace is the operator's own;
//   - a write per token does not wake the watches of every PhoneAuthMethod of the tenant, as an
//     EntraTenant status write would (the PhoneAuthMethod controller watches EntraTenants);
//   - the RBAC it needs (get, create, update on Leases in the manager's own namespace) is
//     already granted by the leader-election Role, namespaced.
//
// Every replica and shard reads and writes the same Lease, so the cap holds across restarts,
// leader changes and N shards. Writes use optimistic concurrency: an Update carries the
// resourceVersion read, a conflict re-reads and counts again. A token is persisted before the
// Graph write is sent; reads come from this process's copy, renewed by a conflict or when a
// check finds it older than a few seconds, so the hot path costs no extra read.
//
// # Blocks
//
// A destructive token costs one Lease write. A creates token would too, and since a tenant's
// takes are serialised on its Lease (Take holds the tenant's mutex across the write), onboarding
// would crawl at one Lease write per new phone. So a pool with a large cap reserves a block of
// tokens with one write (blockSize: one per 1,000 of the cap, 1 to 32; always 1 for the
// destructive pool, whatever its cap). The block is recorded in the Lease as spent at its slot
// when reserved, so other replicas and shards count it spent and never overspend; this process
// hands its tokens out without writes while the block lives (blockLife, a minute, never past
// its slot's hour: a stale block is never spent late). What an expired block left unspent goes
// back to the Lease with this process's next write of the pool, and Release (run when the
// manager stops) gives back every block; a crash loses at most one block per tenant and pool,
// counted as spent until it leaves the hour. This process's lines, Check and Remaining see the
// Lease's window minus its own unspent block tokens (block.seenBy); other processes count them
// as spent, so the remaining-creates gauge of one replica reads lower by other replicas' blocks.
//
// # Waiting
//
// Waiters stand in a line per pool (in this process): the first waiter comes back when the
// first token leaves the window, the second for the second, each with jitter; a refunded token
// wakes the first waiter only. Raising the cap wakes the tenant's objects (the EntraTenant
// watch); those beyond the new cap check the budget without reading Graph and wait again.
//
// # Refunds
//
// A write that Graph refused (a terminal 4xx such as 400, or 429) or that never reached Graph
// (no connection, no token, context ended before sending) gives its token back: it changed
// nothing. A write whose outcome is unknown (a timeout after sending, a 5xx, a 409) keeps it.
// A refunded token of a block that still lives goes back to the block (no write); any other to
// the Lease, at the second it was recorded under. See graph.Refundable.
package budget
