// Package userindex finds the PhoneAuthMethods that name one Entra user in one tenant, by
// UPN or by object id, from the manager's cache. Ownership of a phone slot, the siblings an
// alternateMobile waits for, and the users the change feed wakes are all looked up here, so
// they all agree on who a user's objects are.
package userindex
