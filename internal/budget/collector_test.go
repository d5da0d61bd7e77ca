package budget

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func entraTenant(name, tenantID string, created time.Time, budget int32) *identityv1alpha1.EntraTenant {
	return &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec: identityv1alpha1.EntraTenantSpec{TenantID: tenantID,
			ChangeBudget: identityv1alpha1.ChangeBudget{MaxDestructiveWritesPerHour: &budget}},
	}
}

// TestAScrapeSurvivesTwoEntraTenantsOfOneTenant: the documented Conflict case (two
// EntraTenants naming one tenant id) yields one series per tenant id, the owner's, so the
// registry serves the scrape instead of failing it with HTTP 500.
func TestAScrapeSurvivesTwoEntraTenantsOfOneTenant(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	t0 := time.Unix(1700000000, 0)
	const id = "11111111-2222-3333-4444-555555555555"
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		entraTenant("contoso", id, t0, 7),
		entraTenant("contoso-again", strings.ToUpper(id), t0.Add(time.Hour), 99), // the younger duplicate: Conflict
	).Build()
	now := t0
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(&Collector{Reader: api, Budgets: newLedger(api, &now)}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape answered %d, want 200: %s", resp.StatusCode, body)
	}
	want := `phoneop_change_budget_remaining{tenant="` + id + `"} 7`
	if !strings.Contains(string(body), want) {
		t.Errorf("scrape lacks the owner's series %q:\n%s", want, body)
	}
	if n := strings.Count(string(body), "phoneop_change_budget_remaining{"); n != 1 {
		t.Errorf("%d change-budget series for one tenant id, want 1:\n%s", n, body)
	}
}

func TestOwnersPicksTheOldestEntraTenantOfEachTenantID(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	cases := map[string]struct {
		tenants []identityv1alpha1.EntraTenant
		want    []string
	}{
		"distinct tenant ids":        {[]identityv1alpha1.EntraTenant{*entraTenant("a", "x", t0, 1), *entraTenant("b", "y", t0, 1)}, []string{"a", "b"}},
		"the older of two wins":      {[]identityv1alpha1.EntraTenant{*entraTenant("young", "x", t0.Add(time.Minute), 1), *entraTenant("old", "X", t0, 1)}, []string{"old"}},
		"same age: the name decides": {[]identityv1alpha1.EntraTenant{*entraTenant("b", "x", t0, 1), *entraTenant("a", "x", t0, 1)}, []string{"a"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, o := range Owners(tc.tenants) {
				got = append(got, o.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("owners = %v, want %v", got, tc.want)
			}
		})
	}
}
