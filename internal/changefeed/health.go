package changefeed

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// Constants of the change feed, with why they are what they are.
const (
	// feedOverlap is how far back before its watermark each poll asks: Entra delivers audit
	// entries 2 minutes late at the 95th percentile and 5 at the 99th, so an entry whose
	// activityDateTime lies before the last poll may appear only now. Twice the 99th
	// percentile; an entry later than that is left to the sweep. Entries read twice are
	// dropped by id.
	feedOverlap = 10 * time.Minute
	// auditRetention is how far back the audit log is kept: 7 days without an Entra ID P1/P2
	// licence (30 with one). A watermark older than that means entries were lost. The shorter
	// figure is used because phoneop cannot tell the licence, and a needless catch-up costs
	// only one pass at --resync-period.
	auditRetention = 7 * 24 * time.Hour
	// staleFloor is the least time the feed may go without a successful poll before objects
	// fall back to --resync-period (see staleAfter). A missed poll loses nothing (the next
	// one reads from the same watermark); it only delays detection.
	staleFloor = 5 * time.Minute
	// persistEvery bounds how often the watermark alone is written to the EntraTenant's
	// status: a restart then re-reads at most persistEvery + feedOverlap of the log (and wakes
	// its users once more), at 12 status writes an hour instead of one per poll.
	persistEvery = 5 * time.Minute
	// maxFeedPages bounds one poll: beyond 50 pages of 999 entries the feed treats the burst
	// as a gap and lets a pass at --resync-period cover it.
	maxFeedPages = 50
)

// staleAfter is how long the feed may fail before objects fall back to --resync-period:
// three polls, and never less than staleFloor.
func staleAfter(interval time.Duration) time.Duration { return max(3*interval, staleFloor) }

// feedHealth is the ChangeFeed condition the feed's state calls for.
type feedHealth struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

// healthy reports whether objects may sweep at the long period.
func (h feedHealth) healthy() bool { return h.status == metav1.ConditionTrue }

// feedFacts is what the health decision looks at, recorded by the poller.
type feedFacts struct {
	now time.Time
	// interval and sweep are the tenant's spec.changeFeed.pollInterval and sweepPeriod.
	interval, sweep time.Duration
	// trusted: a poll succeeded since the feed started, or the tenant's status said the feed
	// was healthy when this process took it over.
	trusted bool
	// okSince is the last successful poll, or when this process took the feed over if later:
	// failures are counted from it.
	okSince time.Time
	// failing: the latest poll failed, with class failClass.
	failing   bool
	failClass graph.Class
	// gapUntil: after a gap the feed is trusted again only from then on (zero: no gap).
	gapUntil time.Time
}

// decideHealth turns the facts into the ChangeFeed condition; the first rule that applies
// wins. Messages carry no time, so a steady feed re-decides the same condition and writes
// nothing.
func decideHealth(f feedFacts) feedHealth {
	switch {
	case f.now.Before(f.gapUntil):
		return feedHealth{metav1.ConditionFalse, identityv1alpha1.ReasonAuditLogGap,
			"Part of the audit log was out of reach (older than its retention, or more entries than one poll reads); phoneop re-reads every object at --resync-period once before it trusts the feed again"}
	case f.failing && f.failClass == graph.Forbidden:
		return feedHealth{metav1.ConditionFalse, identityv1alpha1.ReasonAuditLogForbidden,
			"Graph refuses to show the audit log (HTTP 403): grant the app the application permission AuditLog.Read.All with admin consent; until then objects re-read Graph every --resync-period"}
	case f.failing && f.now.Sub(f.okSince) >= staleAfter(f.interval) && f.failClass == graph.Throttled:
		return feedHealth{metav1.ConditionFalse, identityv1alpha1.ReasonAuditLogThrottled,
			fmt.Sprintf("Graph has throttled the audit log for more than %s; objects re-read Graph every --resync-period until the feed catches up", staleAfter(f.interval))}
	case f.failing && f.now.Sub(f.okSince) >= staleAfter(f.interval):
		return feedHealth{metav1.ConditionFalse, identityv1alpha1.ReasonAuditLogUnavailable,
			fmt.Sprintf("The audit log could not be read for more than %s (%s); objects re-read Graph every --resync-period until the feed catches up", staleAfter(f.interval), failureKind(f.failClass))}
	case !f.trusted:
		return feedHealth{metav1.ConditionUnknown, identityv1alpha1.ReasonChangeFeedStarting,
			"The change feed has not read the audit log yet; objects re-read Graph every --resync-period until it has"}
	}
	return feedHealth{metav1.ConditionTrue, identityv1alpha1.ReasonAuditLogRead,
		fmt.Sprintf("phoneop reads the audit log every %s and re-reads the users changed outside it; converged objects re-read Graph every %s", f.interval, f.sweep)}
}

// failureKind names a failure class for a condition message.
func failureKind(c graph.Class) string {
	switch c {
	case graph.Unauthorized:
		return "no token: see the Ready condition"
	case graph.Transient:
		return "Graph errors or timeouts"
	case graph.Throttled:
		return "throttled"
	}
	return "Graph answered with an error"
}

// pollWindow is where the next poll starts reading: the watermark minus the overlap. It
// reports a gap when that lies beyond the audit log's retention, i.e. entries may be lost.
func pollWindow(watermark, now time.Time) (since time.Time, gap bool) {
	since = watermark.Add(-feedOverlap)
	return since, since.Before(now.Add(-auditRetention))
}
