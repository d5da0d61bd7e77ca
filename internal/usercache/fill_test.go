package usercache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
)

// directory is a Lister over fixed pages that counts its listings; each listing can be held
// until release is closed.
type directory struct {
	pages    [][]graph.User
	err      error
	listings atomic.Int32
	release  chan struct{}
}

func (d *directory) list(ctx context.Context, page func([]graph.User) error) error {
	d.listings.Add(1)
	if d.release != nil {
		<-d.release
	}
	for _, p := range d.pages {
		if err := page(p); err != nil {
			return err
		}
	}
	return d.err
}

func TestFill(t *testing.T) {
	kim := graph.User{ID: "KIM-ID", UserPrincipalName: "kim@contoso.com", UserType: "Member"}
	lee := graph.User{ID: "LEE-ID", UserPrincipalName: "lee@contoso.com", UserType: "Guest"}
	anonymous := graph.User{ID: "ANON-ID"} // no UPN: never cached
	cases := map[string]struct {
		namedKeys  int
		err        error
		wantFilled bool
		wantErr    bool
		wantCached []string
		wantNot    []string
	}{
		"a tenant naming few users is not paged": {namedKeys: 9, wantNot: []string{"kim@contoso.com"}},
		"a tenant naming many users is paged, every page, by UPN and id": {namedKeys: 10, wantFilled: true,
			wantCached: []string{"kim@contoso.com", "kim-id", "lee@contoso.com", "lee-id"}, wantNot: []string{"anon-id"}},
		"a failed listing keeps the pages it got and reports the error": {namedKeys: 10, err: errors.New("throttled"), wantErr: true,
			wantCached: []string{"kim@contoso.com", "lee-id"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &Cache{TTL: time.Hour, FillThreshold: 10}
			d := &directory{pages: [][]graph.User{{kim, anonymous}, {lee}}, err: tc.err}
			filled, err := c.Fill(context.Background(), "t", tc.namedKeys, d.list)
			if filled != tc.wantFilled || (err != nil) != tc.wantErr {
				t.Fatalf("Fill = %v, %v; want %v, error %v", filled, err, tc.wantFilled, tc.wantErr)
			}
			for _, key := range tc.wantCached {
				if _, ok := c.Get("t", key); !ok {
					t.Errorf("%s not cached after the fill", key)
				}
			}
			for _, key := range tc.wantNot {
				if _, ok := c.Get("t", key); ok {
					t.Errorf("%s cached, want not", key)
				}
			}
			if got, _ := c.Get("t", "lee@contoso.com"); tc.wantFilled && got.UserType != "Guest" {
				t.Errorf("lee's userType = %q, want the listing's Guest (the guest guard reads it)", got.UserType)
			}
		})
	}
}

// TestFillPaysForItself: after a tenant's first fill, a fill is made only when the lookups
// made without it within one TTL have cost as many calls as its pages. Users read on the resync
// period (many misses a TTL) get a fill each period, for a few lookups more; users read on a
// change feed's daily sweep (a miss now and then) never make the directory be paged again.
func TestFillPaysForItself(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := &Cache{TTL: time.Hour, FillThreshold: 1, Now: func() time.Time { return now }}
	d := &directory{pages: [][]graph.User{{{ID: "KIM-ID", UserPrincipalName: "kim@contoso.com"}}, {{ID: "LEE-ID", UserPrincipalName: "lee@contoso.com"}}}}
	steps := []struct {
		name       string
		after      time.Duration
		wantFilled bool
		listings   int32
	}{
		{"the tenant's first miss fills at once", 0, true, 1},
		{"a miss soon after a fill is looked up alone", 10 * time.Minute, false, 1},
		{"after 3/4 of the TTL, the first lookup is counted", 40 * time.Minute, false, 1},
		{"the second lookup within the TTL is counted", time.Minute, false, 1},
		{"the lookups have cost the fill's two pages: fill", time.Minute, true, 2},
		{"a daily sweep's miss, 50 minutes on", 50 * time.Minute, false, 2},
		{"the next, 61 minutes on: the count starts again", 61 * time.Minute, false, 2},
		{"and the next, 61 minutes on again", 61 * time.Minute, false, 2},
	}
	for _, st := range steps {
		now = now.Add(st.after)
		filled, err := c.Fill(context.Background(), "t", 5, d.list)
		if err != nil || filled != st.wantFilled || d.listings.Load() != st.listings {
			t.Fatalf("%s: Fill = %v, %v after %d listings; want %v after %d", st.name, filled, err, d.listings.Load(), st.wantFilled, st.listings)
		}
	}
	if _, ok := c.Get("t", "lee-id"); ok {
		t.Error("lee is still cached two TTLs after the last fill")
	}
}

// TestConcurrentMissesShareOneListing: the tenant's objects that miss while a fill runs wait
// for it (or, arriving after it, find it done) instead of each paging the directory, and all
// find the user afterwards.
func TestConcurrentMissesShareOneListing(t *testing.T) {
	c := &Cache{TTL: time.Hour, FillThreshold: 1}
	d := &directory{pages: [][]graph.User{{{ID: "KIM-ID", UserPrincipalName: "kim@contoso.com"}}}, release: make(chan struct{})}
	var wg sync.WaitGroup
	var missing atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := c.Fill(context.Background(), "t", 5, d.list); err != nil {
				t.Error(err)
			}
			if _, ok := c.Get("t", "kim@contoso.com"); !ok {
				missing.Add(1)
			}
		})
	}
	for d.listings.Load() == 0 {
		time.Sleep(time.Millisecond) // until the first caller is listing; the others then wait
	}
	close(d.release)
	wg.Wait()
	if n := missing.Load(); n > 0 {
		t.Errorf("%d of 8 callers did not find the user after the fill", n)
	}
	if n := d.listings.Load(); n != 1 {
		t.Errorf("%d listings for 8 concurrent misses, want 1", n)
	}
}
