package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/phone"
)

// TestAdoptionWorkloadStoresEveryForm checks that the seeded tenant holds the numbers in each
// form Graph is seen to store, and that each still means the declared number.
func TestAdoptionWorkloadStoresEveryForm(t *testing.T) {
	w := newAdoptionWorkload(8, Mix{AlternatePercent: 30, OfficePercent: 10})
	forms := map[string]bool{}
	for _, u := range w.users {
		m := w.seeded[u.id][0]
		if m.PhoneType != "mobile" || m.SMSSignInState != "ready" {
			t.Fatalf("user %d's first phone is %s (%s), want a mobile ready for SMS sign-in", u.index, m.PhoneType, m.SMSSignInState)
		}
		if !phone.Equal(m.PhoneNumber, u.number("mobile")) {
			t.Errorf("user %d: the stored form is another number than the declared one", u.index)
		}
		switch {
		case !strings.Contains(m.PhoneNumber, " "):
			forms["no space"] = true
		case strings.Contains(m.PhoneNumber, "-"):
			forms["grouped"] = true
		case strings.Contains(m.PhoneNumber, " 0"):
			forms["trunk"] = true
		default:
			forms["as written"] = true
		}
	}
	if len(forms) != 4 {
		t.Errorf("forms seeded: %v, want all four", forms)
	}
}

func TestExportedObjectsReadsTheSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export-summary.yaml")
	if err := os.WriteFile(path, []byte("managementPolicy: ObserveOnly\nobjects: 280\nusers: 200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := exportedObjects(path); err != nil || n != 280 {
		t.Errorf("exportedObjects = %d, %v; want 280", n, err)
	}
}

// TestAdoptionSmoke runs the adoption benchmark with 20 users: the plugin's export, the
// null controller's apply and phoneop's. It checks that every phone was exported and Ready
// with nothing planned, that neither the export nor phoneop wrote to Graph, and that the
// report shows no number; nothing is timed.
func TestAdoptionSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the control plane and the manager")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := RunAdoption(ctx, Config{N: 20, Mix: Mix{AlternatePercent: 30, OfficePercent: 10}, Latency: 2 * time.Millisecond,
		ReadyTimeout: time.Minute, Logf: t.Logf, Adoption: Adoption{Namespaces: 2, ExportArgs: []string{"--credentials-from=entratenant"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Baseline == nil || res.Baseline.objects != res.Objects {
		t.Errorf("the null controller's run is missing or partial: %+v", res.Baseline)
	}
	if res.Reasons["True Synced"] != res.Phones {
		t.Errorf("Ready reasons %v, want every one of %d phones True Synced", res.Reasons, res.Phones)
	}
	if w := graphWrites(res.ExportGraph) + graphWrites(res.Graph); w != 0 {
		t.Errorf("%d Graph writes (export %v, phoneop %v), want none", w, res.ExportGraph.byOp, res.Graph.byOp)
	}
	md := res.Markdown("go test")
	for _, u := range newAdoptionWorkload(20, res.Config.Mix).users {
		for k := range 4 {
			if n := storedForm(u.number("mobile"), k); strings.Contains(md, n) {
				t.Fatal("the report shows a phone number")
			}
		}
	}
}
