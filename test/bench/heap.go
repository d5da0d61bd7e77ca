package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/phoneop/phoneop/internal/testharness"
)

// Heap profiles of the manager, for attributing its memory (docs/benchmarks.md, "Where the
// manager's memory goes"). With Config.HeapProfile set to a loopback address that the manager
// serves pprof on (--pprof-bind-address, which cmd/bench's -heap-profile adds), the run saves
// the manager's heap profile at the end of onboarding (every object Ready) and at the end of
// the run, in the work dir:
//
//	heap-<phase>.pb.gz   /debug/pprof/heap?gc=1: in-use and allocated bytes by allocation
//	                     site, after a forced GC, so in-use is live data only;
//	heap-<phase>.txt     /debug/pprof/heap?gc=1&debug=1: the same as text, with the runtime's
//	                     MemStats (HeapInuse, HeapSys, ...) at its end;
//	heap-<phase>.status  the manager's /proc/<pid>/status just after (VmRSS, VmHWM).
//
// The runtime samples one allocation per 512 KiB by default, coarse for a heap of tens of MiB;
// cmd/bench's -heap-profile-rate sets GODEBUG=memprofilerate for finer attribution (at some
// cost in the manager's CPU and memory, so peak RSS is measured without it).
//
// Read them with `go tool pprof -top -sample_index=inuse_space bin/manager heap-ready.pb.gz`.

// HeapProfileAddr returns a free loopback address for the manager's pprof endpoint.
func HeapProfileAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// HeapProfileArgs are the manager flags that serve pprof on addr.
func HeapProfileArgs(addr string) []string { return []string{"--pprof-bind-address=" + addr} }

// captureHeap saves the manager's heap profile for phase ("ready", "end") in workDir when
// HeapProfile is set. A failed capture is logged, not fatal: the profile is a diagnostic and
// must not cost the run's measurements.
func (c *Config) captureHeap(ctx context.Context, workDir, phase string) {
	if c.HeapProfile == "" {
		return
	}
	for _, f := range []struct{ query, file string }{
		{"gc=1", "heap-" + phase + ".pb.gz"},
		{"gc=1&debug=1", "heap-" + phase + ".txt"},
	} {
		path := filepath.Join(workDir, f.file)
		if err := fetchTo(ctx, "http://"+c.HeapProfile+"/debug/pprof/heap?"+f.query, path); err != nil {
			c.Logf("bench: heap profile %s: %v", phase, err)
			return
		}
	}
	if pid, err := findChild(testharness.ManagerBinary); err == nil {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			_ = os.WriteFile(filepath.Join(workDir, "heap-"+phase+".status"), b, 0o644)
		}
	}
	c.Logf("bench: heap profile %s saved in %s", phase, filepath.Join(workDir, "heap-"+phase+".pb.gz"))
}

func fetchTo(ctx context.Context, url, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
