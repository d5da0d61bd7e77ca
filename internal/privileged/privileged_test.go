package privileged

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

func TestDecide(t *testing.T) {
	admins := Set{"admin-id": "holds the active directory role r"}
	forbidden := &graph.Error{Op: "listRoleAssignments", Status: 403, Code: "Authorization_RequestDenied", Class: graph.Forbidden}
	member := graph.User{ID: "member-id", UserPrincipalName: "kim@contoso.com", UserType: "Member"}
	admin := graph.User{ID: "ADMIN-ID", UserPrincipalName: "ada@contoso.com", UserType: "Member"}
	guest := graph.User{ID: "guest-id", UserPrincipalName: "gus@contoso.com", UserType: "Guest"}
	b2b := graph.User{ID: "b2b-id", UserPrincipalName: "bea_fabrikam.com#ext#@contoso.onmicrosoft.com"}
	cases := map[string]struct {
		// inputs
		scope identityv1alpha1.UserScope
		user  graph.User
		err   error
		// expected outputs
		wantReason string
	}{
		"a member who holds no role is managed":                  {user: member},
		"an admin is refused (ids compared case-insensitively)":  {user: admin, wantReason: identityv1alpha1.ReasonPrivilegedUser},
		"an admin is managed when the tenant allows it":          {scope: identityv1alpha1.UserScope{AllowPrivilegedUsers: true}, user: admin},
		"a guest is refused":                                     {user: guest, wantReason: identityv1alpha1.ReasonGuestUser},
		"a B2B account is refused whatever its userType":         {user: b2b, wantReason: identityv1alpha1.ReasonGuestUser},
		"a guest is refused even when admins are allowed":        {scope: identityv1alpha1.UserScope{AllowPrivilegedUsers: true}, user: guest, wantReason: identityv1alpha1.ReasonGuestUser},
		"a guest is managed when the tenant allows guests":       {scope: identityv1alpha1.UserScope{AllowGuests: true}, user: guest},
		"unreadable roles refuse everyone":                       {user: member, err: forbidden, wantReason: identityv1alpha1.ReasonPrivilegedUsersUnknown},
		"unreadable roles do not matter when admins are allowed": {scope: identityv1alpha1.UserScope{AllowPrivilegedUsers: true}, user: member, err: forbidden},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reason, msg, refused := Decide(Input{Tenant: "contoso", Scope: tc.scope, User: tc.user, Privileged: admins, LoadErr: tc.err})
			if reason != tc.wantReason || refused != (tc.wantReason != "") {
				t.Fatalf("Decide = %q, %v (%s); want %q", reason, refused, msg, tc.wantReason)
			}
			if refused && !strings.Contains(msg, "contoso") {
				t.Errorf("message does not name the tenant: %s", msg)
			}
		})
	}
}

// fakeRoles is a graph.RoleReader that counts its calls.
type fakeRoles struct {
	active, eligible []graph.RoleAssignment
	members          map[string][]graph.User
	err              error
	calls            atomic.Int32
	block            chan struct{} // when set, ListRoleAssignments waits on it
}

func (f *fakeRoles) ListRoleAssignments(ctx context.Context, page func([]graph.RoleAssignment) error) error {
	f.calls.Add(1)
	if f.block != nil {
		<-f.block
	}
	if f.err != nil {
		return f.err
	}
	return page(f.active)
}

func (f *fakeRoles) ListRoleEligibilities(ctx context.Context, page func([]graph.RoleAssignment) error) error {
	return page(f.eligible)
}

func (f *fakeRoles) ListGroupUsers(ctx context.Context, groupID string, transitive bool, page func([]graph.User) error) error {
	if !transitive {
		return errors.New("want transitive members")
	}
	return page(f.members[groupID])
}

func assignment(principal, typ string) graph.RoleAssignment {
	a := graph.RoleAssignment{PrincipalID: principal, RoleDefinitionID: "role"}
	a.Principal.Type = "#microsoft.graph." + typ
	a.Principal.ID = principal
	return a
}

func TestLoad(t *testing.T) {
	r := &fakeRoles{
		active:   []graph.RoleAssignment{assignment("ada", "user"), assignment("helpdesk", "group"), assignment("app", "servicePrincipal")},
		eligible: []graph.RoleAssignment{assignment("pim", "user")},
		members:  map[string][]graph.User{"helpdesk": {{ID: "gina"}, {ID: "ada"}}},
	}
	set, err := Load(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ada", "helpdesk", "app", "pim", "gina"} {
		if _, ok := set.Why(id); !ok {
			t.Errorf("%s is not privileged", id)
		}
	}
	if why, _ := set.Why("gina"); !strings.Contains(why, "role-assignable group helpdesk") {
		t.Errorf("gina's reason: %s", why)
	}
	if _, ok := set.Why("olga"); ok {
		t.Error("olga holds no role")
	}
}

func TestCacheLoadsOncePerRefreshAndTenant(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := &Cache{Refresh: time.Minute, Now: func() time.Time { return now }}
	r := &fakeRoles{active: []graph.RoleAssignment{assignment("ada", "user")}, block: make(chan struct{})}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if set, _, err := c.Get(context.Background(), "t1", r); err != nil || set == nil {
				t.Errorf("Get = %v, %v", set, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(r.block)
	wg.Wait()
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("10 concurrent Gets made %d loads, want 1", n)
	}
	now = now.Add(59 * time.Second)
	if _, loaded, _ := c.Get(context.Background(), "t1", r); loaded {
		t.Error("loaded again within the refresh period")
	}
	now = now.Add(2 * time.Second)
	if _, loaded, _ := c.Get(context.Background(), "t1", r); !loaded || r.calls.Load() != 2 {
		t.Errorf("after the refresh period: loaded %v, %d loads", loaded, r.calls.Load())
	}
}

func TestCacheRemembersAForbiddenLoad(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c := &Cache{Refresh: time.Hour, ForbiddenRetry: time.Minute, Now: func() time.Time { return now }}
	r := &fakeRoles{err: &graph.Error{Status: 403, Class: graph.Forbidden}}
	for range 3 {
		if _, _, err := c.Get(context.Background(), "t1", r); graph.ClassOf(err) != graph.Forbidden {
			t.Fatalf("got %v, want Forbidden", err)
		}
	}
	if n := r.calls.Load(); n != 1 {
		t.Errorf("%d loads, want 1 within ForbiddenRetry", n)
	}
	r.err = &graph.Error{Status: 503, Class: graph.Transient}
	now = now.Add(2 * time.Minute)
	c.Get(context.Background(), "t1", r)
	c.Get(context.Background(), "t1", r)
	if n := r.calls.Load(); n != 3 {
		t.Errorf("%d loads, want a transient failure not remembered", n)
	}
}
