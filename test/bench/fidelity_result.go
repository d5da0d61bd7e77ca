package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// FidelityAnchor is the line of docs/benchmarks.md before which new fidelity blocks go.
const FidelityAnchor = "<!-- fidelity results end -->"

// DocKey names the run's block in docs/benchmarks.md: one per N and number formats.
func (r *FidelityResult) DocKey() string {
	return fmt.Sprintf("fidelity N=%d %s", r.Config.N, r.formats())
}

func (r *FidelityResult) formats() string {
	var fs []string
	for _, f := range r.Config.Fidelity.NumberFormats {
		fs = append(fs, string(f))
	}
	return strings.Join(fs, ",")
}

func (r *FidelityResult) objectCount() int { return len(r.workload.objects) }

// lastPhase names the last phase before drift, at whose end the objects were judged final;
// "" when that is the convergence itself.
func (r *FidelityResult) lastPhase() string {
	if len(r.phases) < 2 {
		return ""
	}
	return r.phases[len(r.phases)-1].name
}

// WritesPerAction is the headline: Graph writes from the first create until before drift
// (every write request answered in the main tenant, the injected 409s excluded) and the
// needed actions of the objects that ended Ready.
func (r *FidelityResult) WritesPerAction() (writes, done int, ratio float64) {
	writes = r.onboarding.main.totalWrites()
	done = sumCounts(r.final.done(r.workload))
	if done > 0 {
		ratio = float64(writes) / float64(done)
	}
	return writes, done, ratio
}

// attempted counts the needed actions whose write was made at least once, by Graph operation:
// those of the objects that ended Ready, and the creates of the objects left
// PhoneNumberNotUnique (each made its create, which Graph answered 409 without saving).
func (r *FidelityResult) attempted() map[string]int {
	return r.workload.needed(func(o fidelityObject) bool {
		return r.final.ready[o.key()] || r.final.notUniqueKeys[o.key()]
	})
}

// Strict is the fidelity run's write target: Graph writes per needed action attempted,
// counting every write request (the injected 409s included) except the injected conflicts'
// one retry per later pass (allowedRetries: per object left PhoneNumberNotUnique, one create
// in a forced pass or at its slow retry). excess is the writes beyond one per action.
func (r *FidelityResult) Strict() (writes, allowed, attempted, excess int, ratio float64) {
	writes = r.onboarding.main.allWrites()
	allowed = r.allowedRetries
	attempted = sumCounts(r.attempted())
	excess = writes - allowed - attempted
	if attempted > 0 {
		ratio = float64(writes-allowed) / float64(attempted)
	}
	return writes, allowed, attempted, excess, ratio
}

// MaskedWrites counts every write request in the masked tenant (injected ones included) and
// the masked methods that changed.
func (r *FidelityResult) MaskedWrites() (requests, changed int) {
	return r.onboarding.masked.allWrites() + r.driftOps.masked.allWrites(), r.maskedChanged
}

// Unexpected counts the objects whose final state their case does not explain (an object
// that never settled among them).
func (r *FidelityResult) Unexpected() int { return r.final.unexpectedCount() }

func (r *FidelityResult) allCalls() graphOps {
	g := r.onboarding.main.plus(r.onboarding.masked)
	return g.plus(r.driftOps.main).plus(r.driftOps.masked)
}

func (r *FidelityResult) phase(name string) (fidelityPhase, bool) {
	for _, p := range r.phases {
		if p.name == name {
			return p, true
		}
	}
	return fidelityPhase{}, false
}

func (r *FidelityResult) targets() []target {
	writes, done, ratio := r.WritesPerAction()
	masked, changed := r.MaskedWrites()
	all := r.allCalls()
	total := 0
	for _, c := range all.calls {
		total += c
	}
	sw, allowed, attempted, excess, sratio := r.Strict()
	t := []target{
		{"objects Ready, or with the reason of their case", "all", fmt.Sprintf("%d of %d", r.objectCount()-r.Unexpected(), r.objectCount()), r.Unexpected() == 0},
		{"Graph writes per needed action (the injected conflicts' one retry per later pass not counted)", "≤ 1.00",
			fmt.Sprintf("%.3f ((%d writes − %d retries) ÷ %d actions; %d too many)%s", sratio, sw, allowed, attempted, excess, r.retryNote()), attempted > 0 && excess <= 0 && !r.retryInside},
		{"· the same, no injected 409 counted at all, per action done", "≤ 1.00", fmt.Sprintf("%.3f (%d writes, %d actions)", ratio, writes, done), done > 0 && writes <= done},
		{"writes to masked users' methods", "0", fmt.Sprintf("%d (%d methods changed)", masked, changed), masked == 0 && changed == 0},
		{"Graph requests answered 429", "< 1 %", fmt.Sprintf("%.2f %% (%d of %d)", pct(all.throttled, total), all.throttled, total), pct(all.throttled, total) < 1},
	}
	if p, ok := r.phase("steady state"); ok {
		n := p.ops.main.allWrites() + p.ops.masked.allWrites()
		t = append(t, target{"steady state: Graph writes", "0", fmt.Sprint(n), n == 0})
	}
	if d := r.drift; d != nil {
		w := r.driftOps.main.totalWrites()
		t = append(t, target{"drift: corrected, one write per drifted user (injected 409s not counted)", "all, ≤ 1.00",
			fmt.Sprintf("%d of %d users in %s, %d writes", d.users-d.uncorrected, d.users, d.time.Round(time.Second), w),
			d.uncorrected == 0 && w <= d.users})
	}
	return t
}

// Markdown renders the run as its block in docs/benchmarks.md. It counts; it never shows a
// user or a number.
func (r *FidelityResult) Markdown(command string) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	cfg, f, w := r.Config, r.Config.Fidelity, r.workload
	p("### Graph as observed, number format %s: N = %d users (%d objects)\n\n", r.formatsTitle(), cfg.N, r.objectCount())
	p("- Date: %s; duration %s\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Finished.Sub(r.Started).Round(time.Second))
	p("- Machine: %s\n", r.Machine)
	p("- Command: `%s`\n", command)
	p("- Emulator: latency %s + [0, %s), documented throttling, and `-number-format %s -read-lag %s -rate-not-unique-unsaved %g -shuffle-lists -extra-properties -mask-users <%d users>`%s\n",
		cfg.Latency, cfg.Jitter, r.formats(), f.ReadLag, f.UnsavedRate, len(w.masked), r.wavesNote())
	p("- Workload: %d users in the main tenant, %d masked users (%d %%) in a tenant of their own; %s; manager `--max-concurrent-reconciles=%d --resync-period=%s %s`%s\n\n",
		len(w.users), len(w.masked), f.MaskedPercent, r.objectMix(), cfg.Concurrency, cfg.ResyncPeriod, strings.Join(cfg.ManagerArgs, " "), managerEnvNote(cfg.ManagerEnv))

	p("| target | wanted | measured | met |\n|---|---|---|---|\n")
	for _, t := range r.targets() {
		p("| %s | %s | %s | %s |\n", t.name, t.want, t.got, yesNo(t.met))
	}
	p("\n")

	// The objects are judged when they settled, and again after the last phase before drift.
	last := r.lastPhase()
	later := func(format string, a ...any) string {
		if last == "" {
			return ""
		}
		return fmt.Sprintf(format, a...)
	}
	p("| objects by case | objects | needed action each | Ready reason after converging (%s) |%s\n|---|---|---|---|%s\n",
		r.Converged.Round(100*time.Millisecond), later(" after the %s |", last), later("---|"))
	for _, row := range w.rows() {
		n := sumCounts(r.final.byRow[row])
		p("| %s | %d | %s | %s |%s\n", row, n, neededLabel(row), describe(r.afterConverge.byRow[row]), later(" %s |", describe(r.final.byRow[row])))
	}
	p("\n")

	p("| final Ready reason | objects after converging |%s\n|---|---|%s\n", later(" after the %s |", last), later("---|"))
	for _, reason := range unionKeys(r.afterConverge.byReason, r.final.byReason) {
		p("| %s | %d |%s\n", reason, r.afterConverge.byReason[reason], later(" %d |", r.final.byReason[reason]))
	}
	p("\n")

	m := r.onboarding.main
	needed := w.needed(func(fidelityObject) bool { return true })
	done := r.final.done(w)
	attempted := r.attempted()
	p("| Graph writes, main tenant, first create until drift | requests | of which answered 409 without saving (injected) | allowed retries | needed actions attempted | too many | needed actions done | needed actions |\n|---|---|---|---|---|---|---|---|\n")
	for _, op := range []string{opCreate, opUpdate, opEnable, opDisable, opDelete} {
		if m.calls[op] == 0 && needed[op] == 0 {
			continue
		}
		allowed := 0
		if op == opCreate {
			allowed = r.allowedRetries
		}
		p("| %s | %d | %d | %d | %d | %d | %d | %d |\n", op, m.calls[op], m.injected[op], allowed, attempted[op], m.calls[op]-allowed-attempted[op], done[op], needed[op])
	}
	sw, allowed, attemptedN, excess, _ := r.Strict()
	p("| **all writes** | **%d** | %d | **%d** | **%d** | **%d** | %d | %d |\n", sw, m.totalInjected(), allowed, attemptedN, excess, sumCounts(done), sumCounts(needed))
	p("| masked tenant, all writes | %d | %d | 0 | 0 | %d | 0 | 0 |\n", r.onboarding.masked.allWrites(), r.onboarding.masked.totalInjected(), r.onboarding.masked.allWrites())
	if fails := describe(m.plus(r.onboarding.masked).failed); fails != "none" {
		p("| writes answered an error other than 429 and the injected 409 | %s | | | | |\n", fails)
	}
	p("\n")

	p("| phase | duration | Graph writes counted (+ injected 409s) | Graph reads (lists, user look-ups) | 429 |\n|---|---|---|---|---|\n")
	for _, ph := range r.phases {
		g := ph.ops.main.plus(ph.ops.masked)
		p("| %s | %s | %d (+ %d) | %d (%d, %d) | %d |\n", ph.name, ph.duration.Round(100*time.Millisecond), g.totalWrites(), g.totalInjected(),
			g.reads(), g.calls[opList], g.calls[opGetUser], g.throttled)
	}
	if r.drift != nil {
		g := r.driftOps.main.plus(r.driftOps.masked)
		p("| drift (%d users' mobile changed out of band) | %s | %d (+ %d) | %d (%d, %d) | %d |\n", r.drift.users, r.drift.time.Round(time.Second),
			g.totalWrites(), g.totalInjected(), g.reads(), g.calls[opList], g.calls[opGetUser], g.throttled)
	}
	if f.Reread {
		p("\nThe forced re-read began with %d objects PhoneNumberNotUnique and %d MobileRequired.\n", r.rereadNotUnique, r.rereadMobileRequired)
	}
	if f.WaitSlowRetry {
		p("\nThe slow retry began with %d objects PhoneNumberNotUnique.\n", r.slowRetried)
	}
	p("\n| manager | value |\n|---|---|\n")
	p("| peak RSS (VmHWM) | %.0f MiB |\n", float64(r.Proc.peakRSSBytes)/(1<<20))
	p("| CPU time, whole run | %.1f s |\n", r.Proc.cpuSeconds)
	return b.String()
}

func (r *FidelityResult) retryNote() string {
	if r.retryInside {
		return "; not judged: the phases before the retry outlasted the slow retry"
	}
	return ""
}

func (r *FidelityResult) formatsTitle() string {
	var fs []string
	for _, f := range r.Config.Fidelity.NumberFormats {
		fs = append(fs, "`"+string(f)+"`")
	}
	return strings.Join(fs, ", ")
}

func (r *FidelityResult) wavesNote() string {
	if len(r.Config.Fidelity.NumberFormats) < 2 {
		return ""
	}
	return fmt.Sprintf(" (objects created in %d waves, the emulator's number format switched between them)", len(r.Config.Fidelity.NumberFormats))
}

func (r *FidelityResult) objectMix() string {
	n := map[string]int{}
	for _, o := range r.workload.objects {
		n[string(o.obj.Spec.PhoneType)]++
	}
	return fmt.Sprintf("%d mobile (SMS sign-in Enabled), %d alternateMobile, %d office, German numbers", n["mobile"], n["alternateMobile"], n["office"])
}

// neededLabel is the needed action of a cases-table row.
func neededLabel(row string) string {
	for _, c := range []fidelityCase{caseReformatted, caseSMSOff, caseDiffers, caseMissing} {
		if strings.HasSuffix(row, ": "+string(c)) {
			if op := c.neededOp(); op != "" {
				return op
			}
			return "none"
		}
	}
	return "none (must write nothing)"
}

func unionKeys(a, b map[string]int) []string {
	m := map[string]int{}
	for k := range a {
		m[k] = 0
	}
	for k := range b {
		m[k] = 0
	}
	return sortedKeys(m)
}

// summary is result.json.
func (r *FidelityResult) summary() map[string]any {
	writes, done, ratio := r.WritesPerAction()
	sw, allowed, attempted, excess, sratio := r.Strict()
	masked, changed := r.MaskedWrites()
	out := map[string]any{
		"n": r.Config.N, "numberFormats": r.Config.Fidelity.NumberFormats, "readLagSeconds": r.Config.Fidelity.ReadLag.Seconds(),
		"unsavedRate": r.Config.Fidelity.UnsavedRate, "maskedUsers": len(r.workload.masked), "objects": r.objectCount(),
		"convergedSeconds": r.Converged.Seconds(), "reasonsAfterConverge": r.afterConverge.byReason, "reasonsFinal": r.final.byReason,
		"unexpected": r.final.unexpected, "writesInjectedExcluded": writes, "neededActionsDone": done, "writesPerActionDone": ratio,
		"writes": sw, "allowedRetries": allowed, "neededActionsAttempted": attempted, "excessWrites": excess, "writesPerAction": sratio,
		"mainCalls": r.onboarding.main.calls, "mainInjected": r.onboarding.main.injected, "maskedWrites": masked,
		"maskedChanged": changed, "throttled": r.allCalls().throttled,
		"peakRSSBytes": r.Proc.peakRSSBytes, "cpuSeconds": r.Proc.cpuSeconds,
	}
	if r.drift != nil {
		out["driftUsers"], out["driftUncorrected"], out["driftWrites"] = r.drift.users, r.drift.uncorrected, r.driftOps.main.totalWrites()
	}
	return out
}

// ParseNumberFormats reads -fidelity's value: nospace, trunk, spaced, a comma-separated list
// of them, or all (the three in waves).
func ParseNumberFormats(s string) ([]graphemu.NumberFormat, error) {
	if s == "all" {
		s = "nospace,trunk,spaced"
	}
	var out []graphemu.NumberFormat
	for _, part := range strings.Split(s, ",") {
		f, err := graphemu.ParseNumberFormat(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if f == graphemu.NumberFormatDocumented {
			return nil, fmt.Errorf("fidelity: name a reformatting (nospace, trunk, spaced or all)")
		}
		out = append(out, f)
	}
	return out, nil
}
