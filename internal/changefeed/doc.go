// Package changefeed notices changes made to managed users' phones outside phoneop. It polls
// each opted-in tenant's Entra audit log (directoryAudits, authentication methods), wakes
// exactly the PhoneAuthMethods of the users someone else changed, and reports its health in
// the EntraTenant's ChangeFeed condition. While a tenant's feed is healthy, converged objects
// re-read Graph only on the feed's sweep period (schedule.Sweeps); when it fails they fall back
// to --resync-period, so a broken feed costs reads, never missed drift.
//
// Files: feed.go (the runnable and its per-tenant state), poll.go (one poll), health.go (the
// pure health decision), entries.go (which audit entries count), wake.go (the source the
// reconciler watches), predicate.go (tenant updates that are only the feed's own status),
// writelog.go (the manager's own writes, recorded so that an entry made with phoneop's app id
// that none accounts for is reported as suspected use of its credential), limits.go (Graph's
// reports limits on the audit log), metrics.go.
package changefeed
