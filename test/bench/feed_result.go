package bench

import (
	"fmt"
	"strings"
	"time"
)

// FeedAnchor is the line of docs/benchmarks.md before which a change-feed block without
// markers of its own is put.
const FeedAnchor = "<!-- bench feed results end -->"

// DocKey is the marker key of the run's block in docs/benchmarks.md.
func (r *FeedResult) DocKey() string { return fmt.Sprintf("feed N=%d", r.Config.N) }

// defaultResync is the manager's default --resync-period, to which the feed-off steady state
// is scaled.
const defaultResync = 30 * time.Minute

// perHour scales a count over window to an hour.
func perHour(n int, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return float64(n) * float64(time.Hour) / float64(window)
}

// offListsPerUserPeriod is the feed-off steady state's lists per user per resync period.
func (r *FeedResult) offListsPerUserPeriod() float64 {
	periods := r.Off.Window.Seconds() / r.Config.ResyncPeriod.Seconds()
	if periods == 0 || r.Config.N == 0 {
		return 0
	}
	return float64(r.Off.Calls.Lists) / float64(r.Config.N) / periods
}

// offPerHourAtDefault is the feed-off steady state at the default 30-minute resync: the
// measured lists per user per period, two periods an hour.
func (r *FeedResult) offPerHourAtDefault() float64 {
	return r.offListsPerUserPeriod() * float64(r.Config.N) * float64(time.Hour/defaultResync)
}

// onPerHour is the feed-on steady state as measured, per hour.
func (r *FeedResult) onPerHour() float64 { return perHour(r.On.Calls.total(), r.On.Window) }

// onTarget is the change feed's hourly call budget: its polls plus the sweeps (one list per user
// per sweep period).
func (r *FeedResult) onTarget() float64 {
	return float64(time.Hour)/float64(r.Config.PollInterval) + float64(r.Config.N)*float64(time.Hour)/float64(r.Config.SweepPeriod)
}

// driftTarget is the bound on the feed's drift detection at the 95th percentile: the audit
// log's lag, plus one poll interval, plus 30 s (docs/benchmarks.md, "drift corrected").
func (r *FeedResult) driftTarget() time.Duration {
	return r.Config.AuditLag + r.Config.PollInterval + 30*time.Second
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// Markdown is the run's block for docs/benchmarks.md.
func (r *FeedResult) Markdown(command string) string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "### Change feed, N = %d users (%d objects)\n\n", c.N, r.Objects)
	fmt.Fprintf(&b, "- Date: %s; duration %s\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Finished.Sub(r.Started).Round(time.Second))
	fmt.Fprintf(&b, "- Machine: %s\n", r.Machine)
	fmt.Fprintf(&b, "- Command: `%s`\n", command)
	fmt.Fprintf(&b, "- Workload: as the main benchmark (all %d objects Ready after %s); emulator latency %s + [0, %s), documented throttling, audit log delivery lag %s; manager `--resync-period=%s`; feed `pollInterval: %s`, `sweepPeriod: %s` (ChangeFeed=True %s after enabling)\n\n",
		r.Objects, r.AllReady.Round(100*time.Millisecond), c.Latency, c.Jitter, c.AuditLag, c.ResyncPeriod, c.PollInterval, shortDuration(c.SweepPeriod), r.FeedHealthyAfter.Round(100*time.Millisecond))

	onP95 := percentile(r.On.Drift.Times, 95)
	ratio := 0.0
	if r.onPerHour() > 0 {
		ratio = r.offPerHourAtDefault() / r.onPerHour()
	}
	b.WriteString("| target | wanted | measured | met |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| steady state with the feed: Graph calls per hour (± 10 %% at the window's edges) | ≤ %.0f feed calls + %d users ÷ %s of sweeps = %.0f | %.0f | %s |\n",
		float64(time.Hour)/float64(c.PollInterval), c.N, shortDuration(c.SweepPeriod), r.onTarget(), r.onPerHour(), yes(r.onPerHour() <= r.onTarget()*1.1))
	fmt.Fprintf(&b, "| fewer calls than without the feed (at the default 30 m resync) | ≥ 20× (the budget above gives %.1f×) | %.1f× (%.0f → %.0f per hour) | %s |\n",
		r.offPerHourAtDefault()/r.onTarget(), ratio, r.offPerHourAtDefault(), r.onPerHour(), yes(ratio >= 20))
	fmt.Fprintf(&b, "| drift corrected through the feed, 95th percentile | ≤ audit lag + poll + 30 s = %s | %s | %s |\n",
		r.driftTarget(), onP95.Round(time.Second), yes(r.On.Drift.Uncorrected == 0 && onP95 <= r.driftTarget()))
	fmt.Fprintf(&b, "| drift: every changed user corrected (feed on) | %d of %d | %d of %d | %s |\n\n",
		r.On.Drift.Users, r.On.Drift.Users, len(r.On.Drift.Times), r.On.Drift.Users, yes(r.On.Drift.Uncorrected == 0))

	b.WriteString("| steady state, Graph calls | feed off | feed on |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| window watched | %s (2 × resync %s) | %s |\n", r.Off.Window.Round(time.Second), c.ResyncPeriod, r.On.Window.Round(time.Second))
	fmt.Fprintf(&b, "| listPhoneMethods | %d (%.2f per user per resync) | %d |\n", r.Off.Calls.Lists, r.offListsPerUserPeriod(), r.On.Calls.Lists)
	fmt.Fprintf(&b, "| audit log reads (listDirectoryAudits) | %d | %d |\n", r.Off.Calls.AuditReads, r.On.Calls.AuditReads)
	fmt.Fprintf(&b, "| other reads, writes, 429s | %d, %d, %d | %d, %d, %d |\n", r.Off.Calls.OtherReads, r.Off.Calls.Writes, r.Off.Calls.Throttled, r.On.Calls.OtherReads, r.On.Calls.Writes, r.On.Calls.Throttled)
	fmt.Fprintf(&b, "| per hour, as measured | %.0f (resync %s) | **%.0f** (poll %s, sweep %s) |\n", perHour(r.Off.Calls.total(), r.Off.Window), c.ResyncPeriod, r.onPerHour(), c.PollInterval, shortDuration(c.SweepPeriod))
	fmt.Fprintf(&b, "| per hour at the default resync (30 m) | **%.0f** | — |\n\n", r.offPerHourAtDefault())

	pct := r.Config.DriftPercent
	fmt.Fprintf(&b, "| drift (%g %% of users' mobile changed out of band) | feed off (resync %s) | feed on |\n|---|---|---|\n", pct, c.ResyncPeriod)
	fmt.Fprintf(&b, "| users | %d | %d |\n", r.Off.Drift.Users, r.On.Drift.Users)
	for _, p := range []int{50, 95, 100} {
		fmt.Fprintf(&b, "| corrected after, p%d | %s | %s |\n", p, percentile(r.Off.Drift.Times, p).Round(time.Second), percentile(r.On.Drift.Times, p).Round(time.Second))
	}
	fmt.Fprintf(&b, "| not corrected | %d | %d |\n", r.Off.Drift.Uncorrected, r.On.Drift.Uncorrected)
	fmt.Fprintf(&b, "| Graph calls until all were corrected (lists, audit reads, writes) | %d, %d, %d | %d, %d, %d |\n",
		r.Off.Drift.Calls.Lists, r.Off.Drift.Calls.AuditReads, r.Off.Drift.Calls.Writes, r.On.Drift.Calls.Lists, r.On.Drift.Calls.AuditReads, r.On.Drift.Calls.Writes)
	return b.String()
}

// shortDuration prints 24h0m0s as 24h.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}

// summary is result.json's content.
func (r *FeedResult) summary() map[string]any {
	return map[string]any{
		"n": r.Config.N, "objects": r.Objects, "allReadySeconds": r.AllReady.Seconds(),
		"off": map[string]any{"windowSeconds": r.Off.Window.Seconds(), "calls": r.Off.Calls, "perHourAtDefault": r.offPerHourAtDefault(),
			"driftP95Seconds": percentile(r.Off.Drift.Times, 95).Seconds(), "driftUncorrected": r.Off.Drift.Uncorrected},
		"on": map[string]any{"windowSeconds": r.On.Window.Seconds(), "calls": r.On.Calls, "perHour": r.onPerHour(), "target": r.onTarget(),
			"driftP95Seconds": percentile(r.On.Drift.Times, 95).Seconds(), "driftTargetSeconds": r.driftTarget().Seconds(), "driftUncorrected": r.On.Drift.Uncorrected},
	}
}

// UpdateFeedDoc puts the run's block into the markdown file at path, between the markers
// "<!-- bench feed N=<n> begin/end -->" (replacing an earlier run of the same N), else before
// the FeedAnchor line, else at the end; the rest of the file stays as it is.
func UpdateFeedDoc(path string, r *FeedResult, block string) error {
	return UpdateDocBlock(path, r.DocKey(), FeedAnchor, block)
}
