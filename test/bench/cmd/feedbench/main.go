// Command feedbench runs phoneop's change-feed benchmark (test/bench, RunFeed) and puts its
// block into docs/benchmarks.md. `make bench FEED=1 N=1000` runs it; see docs/benchmarks.md,
// "Change feed".
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
	var (
		cfg     bench.FeedConfig
		doc     string
		command string
	)
	flag.IntVar(&cfg.N, "n", 1000, "users (each gets a mobile; -alternate and -office percent more)")
	flag.IntVar(&cfg.Mix.AlternatePercent, "alternate", 30, "percent of users with an alternateMobile")
	flag.IntVar(&cfg.Mix.OfficePercent, "office", 10, "percent of users with an office phone")
	flag.DurationVar(&cfg.Latency, "latency", 20*time.Millisecond, "emulated Graph latency (plus -jitter)")
	flag.DurationVar(&cfg.Jitter, "jitter", 20*time.Millisecond, "uniform extra latency in [0, jitter)")
	flag.DurationVar(&cfg.ResyncPeriod, "resync", time.Minute, "manager --resync-period; the feed-off steady state is watched for two")
	flag.DurationVar(&cfg.PollInterval, "poll", time.Minute, "spec.changeFeed.pollInterval")
	flag.DurationVar(&cfg.SweepPeriod, "sweep", 24*time.Hour, "spec.changeFeed.sweepPeriod")
	flag.DurationVar(&cfg.AuditLag, "audit-lag", 2*time.Minute, "the emulator's audit log delivery lag (Entra: 2 minutes at the 95th percentile)")
	flag.DurationVar(&cfg.FeedWindow, "window", 10*time.Minute, "how long the feed-on steady state is watched")
	flag.Float64Var(&cfg.DriftPercent, "drift", 1, "percent of users whose mobile is changed out of band, in each mode")
	flag.IntVar(&cfg.Concurrency, "concurrency", 16, "manager --max-concurrent-reconciles")
	flag.DurationVar(&cfg.ReadyTimeout, "timeout", time.Hour, "give up when not everything is Ready by then")
	flag.StringVar(&cfg.WorkDir, "work-dir", "", "keep logs, seed and feed-result.json here (default: bin/bench-runs/feed-n<N>)")
	flag.StringVar(&doc, "doc", "docs/benchmarks/feed.md", "markdown file to put the full report in (\"\": print only); docs/benchmarks.md keeps the summary")
	flag.StringVar(&command, "command", "", "the command to record in the report (default: this command line)")
	flag.Parse()
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join("bin", "bench-runs", fmt.Sprintf("feed-n%d", cfg.N))
	}
	if command == "" {
		command = "bin/feedbench " + strings.Join(os.Args[1:], " ")
	}
	cfg.Logf = log.Printf
	ctrllog.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.RunFeed(ctx, cfg)
	if err != nil {
		log.Fatalf("feedbench: %v (logs in %s)", err, cfg.WorkDir)
	}
	md := res.Markdown(command)
	fmt.Println(md)
	if doc != "" {
		if err := bench.UpdateFeedDoc(doc, res, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("feedbench: results written to %s", doc)
	}
}
