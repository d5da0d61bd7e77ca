package bench

import (
	"fmt"
	"strings"
	"time"
)

// AdoptionAnchor ends the adoption runs' blocks in docs/benchmarks.md.
const AdoptionAnchor = "<!-- bench adoption end -->"

// AdoptionTarget is the goal phoneop sets itself for adoption: a tenant's users exported and
// every object Ready within this time (issue 25: 50,000 users in ≤ 5 minutes).
const AdoptionTarget = 5 * time.Minute

// DocKey names the run's block in docs/benchmarks.md.
func (r *AdoptionResult) DocKey() string {
	if r.Config.ThrottleScale == 1 {
		return fmt.Sprintf("adoption N=%d", r.Config.N)
	}
	return fmt.Sprintf("adoption N=%d throttle-scale=%g", r.Config.N, r.Config.ThrottleScale)
}

func (r *AdoptionResult) machineFloor() time.Duration {
	if r.Baseline == nil {
		return 0
	}
	return r.Baseline.allReady
}

func (r *AdoptionResult) ratio() float64 {
	return divide(r.Onboarding.allReady, max(r.Floor.Max(), r.machineFloor()))
}

// graphWrites are phoneop's Graph writes, the $batch envelope not counted (its parts are
// counted by their own verb): adoption must write nothing.
func graphWrites(g graphCalls) int { return g.writes - g.byOp["POST "+batchRoute] }

const batchRoute = "/$batch"

// total is the adoption as a user sees it: the export, then the apply until all Ready.
func (r *AdoptionResult) total() time.Duration { return r.Export + r.Onboarding.allReady }

// Markdown is the run's one table for docs/benchmarks.md.
func (r *AdoptionResult) Markdown(command string) string {
	var b strings.Builder
	cfg := r.Config
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	scale := ""
	if cfg.ThrottleScale != 1 {
		scale = fmt.Sprintf(", Graph's limits × %g", cfg.ThrottleScale)
	}
	p("### Adoption: N = %d users with %d phones%s\n\n", cfg.N, r.Phones, scale)
	p("`%s` · %s, %s · %s · numbers stored as written, without spaces, with the trunk 0 and grouped, in turn; %d namespaces, one `kubectl apply --server-side -k` each in parallel; latency %s + [0, %s), %s; manager `--max-concurrent-reconciles=%d --resync-period=%s%s`%s\n\n",
		command, r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Finished.Sub(r.Started).Round(time.Second), r.Machine,
		cfg.Adoption.Namespaces, cfg.Latency, cfg.Jitter, throttlingNote(cfg.ThrottleScale, cfg.ManagerArgs),
		cfg.Concurrency, cfg.ResyncPeriod, prefixed(" ", strings.Join(cfg.ManagerArgs, " ")), managerEnvNote(cfg.ManagerEnv))
	p("| | phoneop | null controller (machine floor) | target |\n|---|---|---|---|\n")
	for _, row := range r.tableRows() {
		p("| %s | %s | %s | %s |\n", row[0], row[1], row[2], row[3])
	}
	return b.String()
}

func (r *AdoptionResult) tableRows() [][4]string {
	bl := r.Baseline
	null := func(f func(o *onboarding) string) string {
		if bl == nil {
			return "not run"
		}
		return f(bl)
	}
	e, g, f, o := r.ExportGraph, r.Graph, r.Floor, r.Onboarding
	mb := float64(r.Proc.peakRSSBytes) / (1 << 20)
	return [][4]string{
		{"`kubectl phoneop export`", fmt.Sprintf("%s: %d Graph requests (%s), %d writes", round(r.Export), e.total, formatIntCounts(e.byOp), graphWrites(e)), "",
			met("0 writes", graphWrites(e) == 0)},
		{"apply the numbers' Secrets (once, before both runs)", round(r.ApplySecrets), "", ""},
		{"apply the PhoneAuthMethods (ObserveOnly)", round(o.created), null(func(o *onboarding) string { return round(o.created) }), ""},
		{"all Ready after, from the first apply", "**" + round(o.allReady) + "**", null(func(o *onboarding) string { return "**" + round(o.allReady) + "**" }), ""},
		{"Graph floor (" + f.Binding() + ")", fmt.Sprintf("%s = max(RU bucket %s, applied %s + critical path %s)", round(f.Max()), round(f.Buckets), round(f.Created), f.CriticalPath), "", ""},
		{"time ÷ Graph floor, time ÷ machine floor", fmt.Sprintf("%.2f, %s", divide(o.allReady, f.Max()), ratioOrDash(divide(o.allReady, r.machineFloor()))), "", ""},
		{"**time ÷ max(Graph floor, machine floor)**", fmt.Sprintf("**%.2f**", r.ratio()), "", met("≤ 1.25", r.ratio() <= 1.25)},
		{"export + all Ready", round(r.total()), "", met("≤ "+AdoptionTarget.String(), r.total() <= AdoptionTarget)},
		{"Graph calls until all Ready", fmt.Sprintf("%d (%s)", g.total, formatIntCounts(g.byOp)), "0", ""},
		{"Graph writes", fmt.Sprint(graphWrites(g)), "", met("0", graphWrites(g) == 0)},
		{"Graph requests answered 429 (export and phoneop)", fmt.Sprintf("%.2f %% (%d of %d)", pct(e.throttled+g.throttled, e.total+g.total), e.throttled+g.throttled, e.total+g.total), "",
			met("< 1 %", pct(e.throttled+g.throttled, e.total+g.total) < 1)},
		{"Ready reasons", formatIntCounts(r.Reasons), null(func(*onboarding) string { return NullReason }), ""},
		{"kube-apiserver CPU per object", fmt.Sprintf("%.1f ms", ms(o.apiServerCPUPerObject())), null(func(o *onboarding) string { return fmt.Sprintf("%.1f ms", ms(o.apiServerCPUPerObject())) }), ""},
		{"API-server writes per object, its apply included (verb resource)", o.api.writes().perObject(o.objects), null(func(o *onboarding) string { return o.api.writes().perObject(o.objects) }), ""},
		{"the run's processes until all Ready", o.cpu.String(), null(func(o *onboarding) string { return o.cpu.String() }), ""},
		{"manager peak RSS" + managerEnvNote(r.Config.ManagerEnv), fmt.Sprintf("%.0f MiB", mb), "", ""},
	}
}

// summary is result.json.
func (r *AdoptionResult) summary() map[string]any {
	s := map[string]any{
		"n": r.Config.N, "phones": r.Phones, "objects": r.Objects, "exportSeconds": r.Export.Seconds(),
		"exportGraphCalls": r.ExportGraph.byOp, "applySecretsSeconds": r.ApplySecrets.Seconds(),
		"applySeconds": r.Onboarding.created.Seconds(), "allReadySeconds": r.Onboarding.allReady.Seconds(),
		"graphFloorSeconds": r.Floor.Max().Seconds(), "machineFloorSeconds": r.machineFloor().Seconds(), "ratio": r.ratio(),
		"graphCalls": r.Graph.byOp, "graphWrites": graphWrites(r.Graph), "throttled": r.Graph.throttled + r.ExportGraph.throttled,
		"readyReasons": r.Reasons, "apiWrites": r.Onboarding.api.writes(), "peakRSSBytes": r.Proc.peakRSSBytes,
	}
	if r.Baseline != nil {
		s["nullAPIWrites"] = r.Baseline.api.writes()
	}
	return s
}
