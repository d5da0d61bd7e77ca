// Command bench runs phoneop's benchmark (test/bench) and writes its report: a markdown
// block for docs/benchmarks.md and a PNG plot. `make bench N=1000` runs it; see
// docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/phoneop/phoneop/test/bench"
)

func main() {
	// The benchmark starts itself again as the null controller (test/bench/nullcontroller.go).
	bench.RunNullControllerIfAsked()
	var (
		cfg                    bench.Config
		managerArg, managerEnv string
		doc                    string
		plotDir                string
		command                string
		fidelity               string
		heapProfile            bool
		heapProfileRate        int
		adopt                  bool
		exportArgs             string
	)
	flag.IntVar(&cfg.N, "n", 1000, "users (each gets a mobile; -alternate and -office percent more)")
	flag.IntVar(&cfg.Mix.AlternatePercent, "alternate", 30, "percent of users with an alternateMobile")
	flag.IntVar(&cfg.Mix.OfficePercent, "office", 10, "percent of users with an office phone")
	flag.DurationVar(&cfg.Latency, "latency", 20*time.Millisecond, "emulated Graph latency (plus -jitter)")
	flag.DurationVar(&cfg.Jitter, "jitter", 20*time.Millisecond, "uniform extra latency in [0, jitter): 20ms+[0,20ms) is 30ms±10ms")
	flag.DurationVar(&cfg.ResyncPeriod, "resync", time.Minute, "manager --resync-period; the steady state is watched for -steady-periods of them")
	flag.IntVar(&cfg.Concurrency, "concurrency", 16, "manager --max-concurrent-reconciles")
	flag.StringVar(&managerArg, "manager-args", "", "further manager flags, space separated")
	flag.StringVar(&managerEnv, "manager-env", "", "environment for the manager only, space separated (e.g. GOMEMLIMIT=150MiB, as a Deployment sets it)")
	flag.Float64Var(&cfg.ThrottleScale, "throttle-scale", 1, "the emulator's -throttle-scale: multiplies Graph's documented limits (and the floor with them); the manager's flags stay as they are")
	flag.IntVar(&cfg.SecondTenantObjects, "second-tenant", 0, "also onboard a second tenant with this many users (a mobile each) right after the first tenant's objects are created, and time them")
	flag.Float64Var(&cfg.DriftPercent, "drift", 1, "percent of users whose mobile is changed out of band")
	flag.BoolVar(&cfg.SkipSteadyState, "skip-steady", false, "skip the steady-state phase")
	flag.IntVar(&cfg.SteadyPeriods, "steady-periods", 2, "resync periods the steady state is watched for, after one of settling")
	flag.BoolVar(&cfg.SkipDrift, "skip-drift", false, "skip the drift phase")
	flag.BoolVar(&cfg.SkipBaseline, "skip-baseline", false, "skip the null controller's run on the same objects (the machine floor): for trying things out, not for a report")
	flag.BoolVar(&cfg.EmulatorRequestLog, "emulator-log", false, "log every Graph request in the work dir's graph-emulator.log (route, status, fault, request-id), to match the manager's log")
	flag.DurationVar(&cfg.ReadyTimeout, "timeout", time.Hour, "give up when not everything is Ready by then")
	flag.StringVar(&cfg.WorkDir, "work-dir", "", "keep logs, seed and result.json here (default: bin/bench-runs/n<N>)")
	flag.StringVar(&doc, "doc", "docs/benchmarks.md", "markdown file to put the results in (\"\": print only); a fidelity run's full report goes to docs/benchmarks/fidelity.md unless -doc is given")
	flag.StringVar(&plotDir, "plot-dir", "docs/benchmarks", "directory for the PNG plot")
	flag.StringVar(&command, "command", "", "the command to record in the report (default: this command line)")
	flag.StringVar(&fidelity, "fidelity", "", "run against Graph as observed instead of as documented (docs/benchmarks.md, \"Graph as observed\"): the number format Graph stores numbers in, nospace, trunk, spaced, a comma-separated list (one creation wave each) or all")
	flag.DurationVar(&cfg.Fidelity.ReadLag, "read-lag", 10*time.Second, "with -fidelity: the emulator's -read-lag")
	flag.Float64Var(&cfg.Fidelity.UnsavedRate, "unsaved", 0.05, "with -fidelity: the emulator's -rate-not-unique-unsaved (mobile and alternate creates answered 409 and not saved)")
	flag.IntVar(&cfg.Fidelity.MaskedPercent, "masked", 2, "with -fidelity: percent of users whose numbers Graph masks (their phones seeded, in a tenant of their own)")
	flag.BoolVar(&cfg.Fidelity.WaitSlowRetry, "slow-retry", true, "with -fidelity: wait for the slow retry (10 minutes) of the objects left PhoneNumberNotUnique")
	flag.BoolVar(&cfg.Fidelity.Reread, "reread", false, "with -fidelity: force one more pass of every object (reconcile-requested-at) once the read lag has passed")
	flag.BoolVar(&heapProfile, "heap-profile", false, "serve the manager's pprof on a loopback port and save its heap profile (after a forced GC) at the end of onboarding and of the run in the work dir: heap-ready.pb.gz, heap-end.pb.gz (test/bench/heap.go)")
	flag.IntVar(&heapProfileRate, "heap-profile-rate", 0, "with -heap-profile: the manager's GODEBUG=memprofilerate (bytes per sampled allocation; 0: the runtime's 512 KiB). Finer sampling costs the manager CPU and memory: measure peak RSS without it")
	flag.BoolVar(&adopt, "adopt", false, "brownfield adoption instead (docs/benchmarks.md, \"Adoption\"): seed -n users who already have phones, run `kubectl phoneop export`, apply it (ObserveOnly) with the null controller and then with phoneop, time all Ready")
	flag.IntVar(&cfg.Adoption.Namespaces, "adopt-namespaces", 4, "with -adopt: namespaces the users are spread over, applied in parallel")
	flag.StringVar(&exportArgs, "export-args", "--credentials-from=entratenant", "with -adopt: further flags of `kubectl phoneop export`, space separated; the default reads the manager's credentials (the EntraTenant's Secret)")
	flag.Parse()
	cfg.Adoption.ExportArgs = strings.Fields(exportArgs)
	if fidelity != "" && !flagGiven("doc") {
		doc = filepath.Join("docs", "benchmarks", "fidelity.md") // docs/benchmarks.md keeps their summary
	}
	cfg.ManagerArgs = strings.Fields(managerArg)
	cfg.ManagerEnv = strings.Fields(managerEnv)
	if heapProfile {
		addr, err := bench.HeapProfileAddr()
		if err != nil {
			log.Fatal(err)
		}
		cfg.HeapProfile = addr
		cfg.ManagerArgs = append(cfg.ManagerArgs, bench.HeapProfileArgs(addr)...)
		if heapProfileRate > 0 {
			cfg.ManagerEnv = append(cfg.ManagerEnv, fmt.Sprintf("GODEBUG=memprofilerate=%d", heapProfileRate))
		}
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join("bin", "bench-runs", fmt.Sprintf("n%d", cfg.N))
		if cfg.ThrottleScale != 1 {
			cfg.WorkDir = filepath.Join("bin", "bench-runs", fmt.Sprintf("n%d-x%g", cfg.N, cfg.ThrottleScale))
		}
		if fidelity != "" {
			cfg.WorkDir = filepath.Join("bin", "bench-runs", fmt.Sprintf("fidelity-n%d-%s", cfg.N, strings.ReplaceAll(fidelity, ",", "-")))
		}
		if adopt {
			cfg.WorkDir = strings.Replace(cfg.WorkDir, filepath.Join("bench", "n"), filepath.Join("bench", "adopt-n"), 1)
		}
	}
	if command == "" {
		command = "bin/bench " + strings.Join(os.Args[1:], " ")
	}
	cfg.Logf = log.Printf
	// client-go logs through controller-runtime's logger; only its errors matter here.
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if adopt {
		runAdoption(ctx, cfg, doc, command)
		return
	}
	if fidelity != "" {
		formats, err := bench.ParseNumberFormats(fidelity)
		if err != nil {
			log.Fatal(err)
		}
		cfg.Fidelity.NumberFormats = formats
		runFidelity(ctx, cfg, doc, command)
		return
	}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		log.Fatalf("bench: %v (logs in %s)", err, cfg.WorkDir)
	}
	plotRef := ""
	if plotDir != "" {
		if err := os.MkdirAll(plotDir, 0o755); err != nil {
			log.Fatal(err)
		}
		name := res.PlotName()
		f, err := os.Create(filepath.Join(plotDir, name))
		if err != nil {
			log.Fatal(err)
		}
		title := fmt.Sprintf("phoneop: %d PhoneAuthMethods (%d users) Ready over time", len(res.ReadyTimes), cfg.N)
		if err := bench.Plot(f, res.ReadyTimes, len(res.ReadyTimes), res.Floor.Max(), title); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
		plotRef = relativeTo(doc, filepath.Join(plotDir, name))
	}
	md := res.Markdown(command, plotRef)
	fmt.Println(md)
	details := filepath.Join(cfg.WorkDir, "report.md")
	if err := os.WriteFile(details, []byte(res.Details(command)), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("bench: every table of the run in %s", details)
	if doc != "" {
		if err := bench.UpdateDocBlock(doc, res.MainDocKey(), bench.ResultsAnchor, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("bench: results written to %s", doc)
	}
}

// relativeTo makes the plot's path relative to the markdown file, so the link works on
// GitHub and locally.
func relativeTo(doc, target string) string {
	if doc == "" {
		return target
	}
	rel, err := filepath.Rel(filepath.Dir(doc), target)
	if err != nil {
		return target
	}
	return filepath.ToSlash(rel)
}

// runFidelity runs a fidelity benchmark and puts its block into doc.
func runFidelity(ctx context.Context, cfg bench.Config, doc, command string) {
	res, err := bench.RunFidelity(ctx, cfg)
	if err != nil {
		log.Fatalf("bench: %v (logs in %s)", err, cfg.WorkDir)
	}
	md := res.Markdown(command)
	fmt.Println(md)
	if doc != "" {
		if err := bench.UpdateDocBlock(doc, res.DocKey(), bench.FidelityAnchor, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("bench: results written to %s", doc)
	}
}

// runAdoption runs a brownfield benchmark and puts its block into doc.
func runAdoption(ctx context.Context, cfg bench.Config, doc, command string) {
	res, err := bench.RunAdoption(ctx, cfg)
	if err != nil {
		log.Fatalf("bench: %v (logs in %s)", err, cfg.WorkDir)
	}
	md := res.Markdown(command)
	fmt.Println(md)
	if doc != "" {
		if err := bench.UpdateDocBlock(doc, res.DocKey(), bench.AdoptionAnchor, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("bench: results written to %s", doc)
	}
}

// flagGiven reports whether the command line set the named flag.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
