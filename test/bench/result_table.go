package bench

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the run as the one table docs/benchmarks.md holds for this N and scale:
// phoneop's run beside the null controller's (the machine floor) on the same objects, both
// floors and both ratios, and the targets. Everything else the run measured is in Details.
func (r *Result) Markdown(command, plotFile string) string {
	var b strings.Builder
	cfg := r.Config
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("### N = %d users (%d objects)%s\n\n", cfg.N, r.objectCount(), r.scaleTitle())
	p("`%s` · %s, %s · %s · %s; latency %s + [0, %s), %s; manager `--max-concurrent-reconciles=%d --resync-period=%s%s`%s\n\n",
		command, r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Finished.Sub(r.Started).Round(time.Second), r.Machine,
		r.objectMix(), cfg.Latency, cfg.Jitter, throttlingNote(cfg.ThrottleScale, cfg.ManagerArgs),
		cfg.Concurrency, cfg.ResyncPeriod, prefixed(" ", strings.Join(cfg.ManagerArgs, " ")), managerEnvNote(cfg.ManagerEnv))
	p("| | phoneop | null controller (machine floor) | target |\n|---|---|---|---|\n")
	for _, row := range r.tableRows() {
		p("| %s | %s | %s | %s |\n", row[0], row[1], row[2], row[3])
	}
	if plotFile != "" {
		p("\n![PhoneAuthMethods Ready over time, N = %d](%s)\n", cfg.N, plotFile)
	}
	return b.String()
}

// tableRows are the rows of Markdown's table: measure, phoneop, null controller, target.
func (r *Result) tableRows() [][4]string {
	bl := r.Baseline
	null := func(f func(o *onboarding) string) string {
		if bl == nil {
			return "not run"
		}
		return f(bl)
	}
	objects := r.objectCount()
	f := r.Floor
	c := r.Converge.graph
	rows := [][4]string{
		{"all Ready after (objects created in)", fmt.Sprintf("**%s** (%s)", round(r.AllReady), round(r.CreateObjects)),
			null(func(o *onboarding) string { return fmt.Sprintf("**%s** (%s)", round(o.allReady), round(o.created)) }), ""},
		{"Graph floor (" + f.Binding() + ")", fmt.Sprintf("%s = max(buckets %s, created %s + critical path %s)",
			round(f.Max()), round(f.Buckets), round(f.Created), f.CriticalPath), "", ""},
		{"time ÷ Graph floor, time ÷ machine floor", fmt.Sprintf("%.2f, %s", r.graphRatio(), ratioOrDash(r.machineRatio())), "", ""},
		{"**time ÷ max(Graph floor, machine floor)**", fmt.Sprintf("**%.2f** (%s floor binds)", r.ratio(), r.bindingFloor()), "",
			met(fmt.Sprintf("≤ %.2f", r.ratioTarget()), r.ratio() <= r.ratioTarget())},
		{"kube-apiserver CPU per object", fmt.Sprintf("%.1f ms", ms(r.Onboarding.apiServerCPUPerObject())),
			null(func(o *onboarding) string { return fmt.Sprintf("%.1f ms", ms(o.apiServerCPUPerObject())) }), ""},
		{"API-server writes per object, its create included (verb resource)", r.Onboarding.api.writes().perObject(objects),
			null(func(o *onboarding) string { return o.api.writes().perObject(o.objects) }), ""},
		{"the run's processes until all Ready", r.ConvergeCPU.String(), null(func(o *onboarding) string { return o.cpu.String() }), ""},
		{"Graph calls per object", fmt.Sprintf("%.2f (%s)", float64(c.total)/float64(max(objects, 1)), perObjectCounts(c.byOp, objects)), "0", ""},
		{"Graph requests answered 429", fmt.Sprintf("%.2f %% (%d of %d)", pct(c.throttled, c.total), c.throttled, c.total), "",
			met("< 1 %", pct(c.throttled, c.total) < 1)},
	}
	if st := r.SecondTenant; st != nil {
		rows = append(rows, [4]string{fmt.Sprintf("a second tenant's %d objects, created as this one onboards, all Ready after", st.objects),
			round(st.ready), "", met("≤ "+SecondTenantTarget.String(), st.ready <= SecondTenantTarget)})
	}
	if !r.Config.SkipSteadyState {
		lists := r.steadyListsPerUserPeriod()
		rows = append(rows, [4]string{"steady state: GETs per user per resync period; Graph writes; object writes",
			fmt.Sprintf("%.3f; %d; %d", lists, r.Steady.graph.writes, r.SteadyObjectWrites), "",
			met("≤ 1.02; 0; 0", lists <= 1.02 && r.Steady.graph.writes == 0 && r.SteadyObjectWrites == 0)})
	}
	if !r.Config.SkipDrift {
		ok := r.DriftUncorrected == 0 && r.DriftTime <= r.Config.ResyncPeriod+5*time.Second
		rows = append(rows, [4]string{"drift corrected (1 % of users' mobile changed out of band)",
			fmt.Sprintf("%d of %d users in %s", r.DriftUsers-r.DriftUncorrected, r.DriftUsers, r.DriftTime.Round(time.Second)), "",
			met("within one resync ("+r.Config.ResyncPeriod.String()+")", ok)})
	}
	mb := float64(r.Proc.peakRSSBytes) / (1 << 20)
	return append(rows, [4]string{"manager peak RSS" + managerEnvNote(r.Config.ManagerEnv), fmt.Sprintf("%.0f MiB", mb), "",
		met(fmt.Sprintf("≤ %.0f MiB", r.rssTargetMiB()), mb <= r.rssTargetMiB())})
}

// met renders a target and whether the run met it.
func met(want string, ok bool) string { return want + ": " + yesNo(ok) }

func round(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func durationOrDash(d time.Duration) string {
	if d == 0 {
		return "— (not run)"
	}
	return round(d)
}

func ratioOrDash(x float64) string {
	if x == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", x)
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// perObjectCounts renders counts per object by name, e.g. "createPhoneMethod 1.00, getUser 0.91".
func perObjectCounts(m map[string]int, objects int) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(m[k])/float64(max(objects, 1))))
	}
	return strings.Join(parts, ", ")
}
