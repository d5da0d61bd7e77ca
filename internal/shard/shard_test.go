package shard

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// TestShardSelection: a shard takes exactly the objects labelled with its name, the default
// shard exactly the unlabelled ones, so no object is reconciled by two managers whatever is
// labelled; tenants follow the same rule.
func TestShardSelection(t *testing.T) {
	objects := map[string]map[string]string{
		"unlabelled":    nil,
		"other labels":  {"team": "a"},
		"shard a":       {Label: "a"},
		"shard b":       {Label: "b"},
		"empty shard":   {Label: ""},
		"similar label": {"sharding.fluxcd.io/key": "a"},
	}
	want := map[string][]string{ // shard → the objects it takes
		"":  {"unlabelled", "other labels", "similar label"},
		"a": {"shard a"},
		"b": {"shard b"},
	}
	owners := map[string][]string{}
	for shard, names := range want {
		c := Config{Name: shard, Count: 1}
		sel := c.Selector()
		for name, l := range objects {
			cached := sel.Matches(labels.Set(l))
			owns := c.Owns(&identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Labels: l}})
			if cached != owns {
				t.Errorf("shard %q: %s is cached %v but its tenant owned %v; the rules must agree", shard, name, cached, owns)
			}
			wanted := false
			for _, n := range names {
				wanted = wanted || n == name
			}
			if cached != wanted {
				t.Errorf("shard %q (selector %q): takes %s = %v, want %v", shard, sel, name, cached, wanted)
			}
			if cached {
				owners[name] = append(owners[name], shard)
			}
		}
	}
	for name := range objects {
		if name == "empty shard" {
			// Labelled with an empty name: no shard can be started with --shard="" (that is
			// the default shard, which takes only unlabelled objects), so nobody takes it.
			if len(owners[name]) != 0 {
				t.Errorf("%s is taken by %q", name, owners[name])
			}
			continue
		}
		if len(owners[name]) != 1 {
			t.Errorf("%s is taken by shards %q, want exactly one", name, owners[name])
		}
	}
}

func TestShardCacheKeepsTenantsWhole(t *testing.T) {
	c := Config{Name: "a", Count: 1}.Cache(cache.Options{DefaultNamespaces: map[string]cache.Config{"team-a": {}}})
	if len(c.ByObject) != 1 {
		t.Fatalf("ByObject %v, want only PhoneAuthMethods restricted", c.ByObject)
	}
	for obj, by := range c.ByObject {
		if _, ok := obj.(*identityv1alpha1.PhoneAuthMethod); !ok {
			t.Errorf("the cache restricts %T; EntraTenants (read by every shard's objects) must stay whole", obj)
		}
		if by.Label.String() != Label+"=a" {
			t.Errorf("selector %q", by.Label)
		}
	}
	if len(c.DefaultNamespaces) != 1 {
		t.Errorf("Cache dropped --watch-namespaces: %v", c.DefaultNamespaces)
	}
}

func TestValidateAndLease(t *testing.T) {
	cases := map[string]struct {
		shard   string
		count   int
		lease   string
		wantErr string
	}{
		"default":               {count: 1, lease: "phoneop.identity.phoneop.dev"},
		"a shard has its Lease": {shard: "eu-1", count: 3, lease: "phoneop-eu-1.identity.phoneop.dev"},
		"no count":              {count: 0, wantErr: "--shard-count"},
		"not a DNS label":       {shard: "EU_1", count: 2, wantErr: `--shard: "EU_1"`},
		"too long":              {shard: strings.Repeat("a", 64), count: 2, wantErr: "--shard"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Name: c.shard, Count: c.count}
			err := cfg.Validate()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.LeaderElectionID(); got != c.lease {
				t.Errorf("Lease %q, want %q", got, c.lease)
			}
		})
	}
}

// TestShardLimits: N shards together never exceed one manager's caps, and their starting
// buckets (Graph's documented ones, within the caps) add up to at most Graph's.
func TestShardLimits(t *testing.T) {
	one := graph.DefaultLimits
	if got := (Config{Count: 1}).Limits(one); got != one {
		t.Errorf("one shard changed the limits: %+v", got)
	}
	for _, n := range []int{2, 3, 4, 7} {
		l := Config{Count: n}.Limits(one)
		if sum := l.RequestsPerSecond * float64(n); sum > one.RequestsPerSecond+1e-9 {
			t.Errorf("%d shards: %v requests/s together, over the cap %v", n, sum, one.RequestsPerSecond)
		}
		if sum := l.WritesPerSecond * float64(n); sum > one.WritesPerSecond+1e-9 {
			t.Errorf("%d shards: %v writes/s together, over the cap %v", n, sum, one.WritesPerSecond)
		}
		if sum := l.Burst * n; sum > one.Burst {
			t.Errorf("%d shards: request buckets of %d together, over %d", n, sum, one.Burst)
		}
		if sum := l.WriteBurst * n; sum > one.WriteBurst {
			t.Errorf("%d shards: write buckets of %d together, over %d", n, sum, one.WriteBurst)
		}
		if l.MaxRetries != one.MaxRetries || l.MaxWait != one.MaxWait {
			t.Errorf("%d shards changed retries or waits: %+v", n, l)
		}
	}
}

// TestSameShard: an object may write only when labelled exactly as its tenant, so a namespace
// tenant cannot move its objects to another shard than the one an admin chose for the tenant.
func TestSameShard(t *testing.T) {
	cases := map[string]struct {
		object, tenant map[string]string
		want           bool
	}{
		"both unlabelled (the default shard)":           {want: true},
		"both labelled alike":                           {object: map[string]string{Label: "eu-1"}, tenant: map[string]string{Label: "eu-1"}, want: true},
		"the object picks another shard":                {object: map[string]string{Label: "eu-2"}, tenant: map[string]string{Label: "eu-1"}},
		"the object leaves its labelled tenant's shard": {tenant: map[string]string{Label: "eu-1"}},
		"the object picks a shard, the tenant none":     {object: map[string]string{Label: "eu-1"}},
		"an empty label is not the default shard":       {object: map[string]string{Label: ""}},
		"other labels do not count":                     {object: map[string]string{"team": "a"}, tenant: map[string]string{"team": "b"}, want: true},
	}
	for name, tc := range cases {
		if got := SameShard(tc.object, tc.tenant); got != tc.want {
			t.Errorf("%s: SameShard = %v, want %v", name, got, tc.want)
		}
	}
}
