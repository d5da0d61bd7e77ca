// Package budget is the change budget: a cap on each tenant's destructive Graph writes
// (number changes and deletes of phones that exist) per rolling hour, so that a bad commit or
// a compromised namespace cannot strip or rewrite thousands of MFA phones at once, and the
// metric that shows what is left of it.
package budget
