// Package privileged keeps phoneop away from the phones of privileged users and guests unless
// the EntraTenant allows them (spec.userScope.allowPrivilegedUsers, allowGuests).
//
// Entra lets only a Privileged Authentication Administrator manage the authentication methods
// of a user who holds an admin role; an app with UserAuthenticationMethod.ReadWrite.All is not
// held to that rule. phoneop holds itself to it: every directory role counts (isPrivileged is
// beta only), active or eligible (PIM), held directly or through a role-assignable group.
//
//   - Load reads the tenant's privileged principals with a few tenant-wide calls (active and
//     eligible role assignments, then each group principal's transitive members), never one
//     call per user;
//   - Cache keeps that set per tenant for a refresh period, one load at a time per tenant;
//   - Decide is the pure rule: is this user refused, and why.
//
// The package knows Graph only through graph.RoleReader and imports no controller code.
package privileged
