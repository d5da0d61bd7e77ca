// Package schedule decides when a converged PhoneAuthMethod reads Graph again. Every user gets
// a fixed phase in the resync period, derived from its key, and a per-cycle jitter: the objects
// of one user come due together (and share one read through the observer), users spread evenly
// over the period (a tenant's read load stays flat however its objects were created), and no
// two cycles of a user are exactly one period apart. While a tenant's change feed is healthy,
// its period stretches to the feed's sweep period; the reconciler and the change feed both
// schedule through this package, so they agree on every user's slot.
package schedule
