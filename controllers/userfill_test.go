package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/usercache"
	"github.com/phoneop/phoneop/internal/userindex"
)

// fakeDirectory is a graph.UserLister over one page that counts its listings.
type fakeDirectory struct {
	users    []graph.User
	listings int
}

func (d *fakeDirectory) ListUsers(_ context.Context, _ graph.UserQuery, page func([]graph.User) error) error {
	d.listings++
	return page(d.users)
}

// TestATenantOfManyUsersResolvesThemFromOneListing: once a tenant's objects name enough users,
// a resync resolves each user from one paged listing of the directory instead of one lookup per
// user (the steady state then costs one phone read per user per period, not two). The fake
// Graph has no GetUser: a lookup fails the pass.
func TestATenantOfManyUsersResolvesThemFromOneListing(t *testing.T) {
	api := &graphtest.FakeAPI{}
	dir := &fakeDirectory{}
	names := []string{"kim", "lee", "max"}
	w := newUnitWorld(api)
	w.r.UserIndex = userindex.New()
	w.r.Users = &usercache.Cache{TTL: time.Hour, FillThreshold: len(names)}
	for _, n := range names {
		dir.users = append(dir.users, graph.User{ID: n + "-id", UserPrincipalName: n + "@contoso.com", UserType: "Member"})
		w.r.UserIndex.OnAdd(&identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: n},
			Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, User: n + "@contoso.com"}}, false)
	}
	w.s.tenant.Spec.AllowedNamespaces = &metav1.LabelSelector{}
	w.s.conn.Users = dir

	for _, n := range names {
		s := *w.s
		pam := w.s.pam.DeepCopy()
		pam.Spec.User = n + "@contoso.com"
		s.pam, s.user, s.userFresh = pam, graph.User{}, false
		if o := w.r.resolveUser(context.Background(), &s); o != nil {
			t.Fatalf("%s: resolveUser = %s: %s", n, o.reason, o.message)
		}
		if s.user.ID != n+"-id" || pam.Status.UserID != n+"-id" {
			t.Errorf("%s resolved to %q (status %q), want %s-id", n, s.user.ID, pam.Status.UserID, n)
		}
		if s.userFresh {
			t.Errorf("%s: a listed user counts as freshly read; a destructive write must still read it again", n)
		}
	}
	if dir.listings != 1 || api.Count("GetUser") != 0 {
		t.Errorf("%d listings and %d user lookups for %d users, want 1 and 0", dir.listings, api.Count("GetUser"), len(names))
	}
}
