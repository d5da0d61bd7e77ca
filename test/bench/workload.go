package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// Mix is the share of users that get each optional phone type, in percent. Every user gets
// a mobile with SMS sign-in Enabled.
type Mix struct {
	AlternatePercent int
	OfficePercent    int
}

// user is one seeded user and the phones the benchmark declares for it. Numbers are
// synthetic and distinct per user and type, so SMS sign-in never finds a clash.
type user struct {
	index int
	id    string // object id
	upn   string
	// german: the user's numbers are German (+49), a country with a national trunk prefix,
	// so that every reformatting the emulator can store (-number-format trunk included)
	// applies to them; otherwise North American (+1).
	german bool
}

func newUser(i int) user {
	return user{index: i, id: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), upn: fmt.Sprintf("user-%06d@bench.phoneop.dev", i)}
}

// Numbers in Graph format, one prefix per type; the drift number differs from the mobile's.
// German mobiles and alternates are mobile numbers (015x), German offices fixed lines
// (Berlin, 030), as libphonenumber classifies them.
func (u user) number(t identityv1alpha1.PhoneType) string {
	if u.german {
		switch t {
		case identityv1alpha1.PhoneTypeAlternateMobile:
			return fmt.Sprintf("+49 152%08d", u.index)
		case identityv1alpha1.PhoneTypeOffice:
			return fmt.Sprintf("+49 30%08d", u.index)
		}
		return fmt.Sprintf("+49 151%08d", u.index)
	}
	prefix := map[identityv1alpha1.PhoneType]int{identityv1alpha1.PhoneTypeMobile: 2,
		identityv1alpha1.PhoneTypeAlternateMobile: 3, identityv1alpha1.PhoneTypeOffice: 4}[t]
	return fmt.Sprintf("+1 %d%09d", prefix, u.index)
}

func (u user) driftNumber() string {
	if u.german {
		return fmt.Sprintf("+49 159%08d", u.index)
	}
	return fmt.Sprintf("+1 9%09d", u.index)
}

// types is the phones user i declares. The optional types are spread over the users by
// strides coprime to 100 (any 100 consecutive users hold exactly the percentages), so that a
// small run has the mix too and alternates are not clustered at the start of a large one.
func (m Mix) types(i int) []identityv1alpha1.PhoneType {
	ts := []identityv1alpha1.PhoneType{identityv1alpha1.PhoneTypeMobile}
	if (i*37)%100 < m.AlternatePercent {
		ts = append(ts, identityv1alpha1.PhoneTypeAlternateMobile)
	}
	if (i*71)%100 < m.OfficePercent {
		ts = append(ts, identityv1alpha1.PhoneTypeOffice)
	}
	return ts
}

// workload is the N users and their objects.
type workload struct {
	users   []user
	objects []*identityv1alpha1.PhoneAuthMethod
}

func newWorkload(n int, mix Mix, namespace, tenant string) workload {
	return newWorkloadFrom(0, n, mix, namespace, tenant)
}

// newWorkloadFrom is newWorkload for the users first, first+1, …: a second tenant's users
// get numbers and ids of their own.
func newWorkloadFrom(first, n int, mix Mix, namespace, tenant string) workload {
	var w workload
	enabled := identityv1alpha1.SMSSignInEnabled
	for i := first; i < first+n; i++ {
		u := newUser(i)
		w.users = append(w.users, u)
		for _, t := range mix.types(i) {
			p := &identityv1alpha1.PhoneAuthMethod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("u%06d-%s", i, lowerType(t)), Namespace: namespace},
				Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenant},
					User: u.upn, PhoneType: t, PhoneNumber: u.number(t)},
			}
			if t == identityv1alpha1.PhoneTypeMobile {
				p.Spec.SMSSignIn = &enabled
			}
			w.objects = append(w.objects, p)
		}
	}
	return w
}

func lowerType(t identityv1alpha1.PhoneType) string {
	switch t {
	case identityv1alpha1.PhoneTypeAlternateMobile:
		return "alternate"
	case identityv1alpha1.PhoneTypeOffice:
		return "office"
	}
	return "mobile"
}

// seed is the emulator's seed: the tenant (SMS sign-in for everybody), the app, and the
// users with no phone methods.
func (w workload) seed(tenantID, clientID, secret string) graphemu.Seed {
	s := graphemu.Seed{
		Tenants: []graphemu.Tenant{{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}}},
		Apps: []graphemu.SeedApp{{TenantID: tenantID, ClientID: clientID, ClientSecret: secret,
			Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll, graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}}},
	}
	for _, u := range w.users {
		s.Users = append(s.Users, graphemu.SeedUser{User: graphemu.User{TenantID: tenantID, ID: u.id, UserPrincipalName: u.upn}})
	}
	return s
}

// writes is the least number of Graph writes the workload needs: one create per object
// (Graph registers a new mobile for SMS sign-in by itself when the policy allows it).
func (w workload) writes() int { return len(w.objects) }

// create creates every object with parallel workers; the API server is local, so the
// client's rate limit is off and parallelism is what makes it fast.
func (w workload) create(ctx context.Context, c client.Client, workers int) error {
	return forEach(ctx, w.objects, workers, func(obj *identityv1alpha1.PhoneAuthMethod) error {
		if err := c.Create(ctx, obj.DeepCopy()); err != nil {
			// The reason only: an admission message may quote the number.
			return fmt.Errorf("creating PhoneAuthMethod %s: %s", obj.Name, apierrors.ReasonForError(err))
		}
		return nil
	})
}

// forEach runs fn for every object with parallel workers and returns the first error.
func forEach[T any](ctx context.Context, objs []T, workers int, fn func(T) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) || ctx.Err() != nil {
					return
				}
				if err := fn(objs[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
