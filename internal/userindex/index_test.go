package userindex

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

func indexedPAM(name, tenant, user, userID string) *identityv1alpha1.PhoneAuthMethod {
	return &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec:   identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenant}, User: user},
		Status: identityv1alpha1.PhoneAuthMethodStatus{UserID: userID}}
}

func TestIndex(t *testing.T) {
	byUPN := indexedPAM("kim-mobile", "contoso", "Kim@Contoso.com", "")
	byUPNResolved := indexedPAM("kim-mobile", "contoso", "Kim@Contoso.com", "kim-id")
	byID := indexedPAM("kim-alt", "contoso", "kim-id", "kim-id")
	otherTenant := indexedPAM("kim-office", "fabrikam", "kim@contoso.com", "kim-id")
	key := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "team", Name: name} }

	cases := map[string]struct {
		events func(x *Index)
		lookup []Ref
		want   []types.NamespacedName
	}{
		"a UPN is found whatever its case": {
			events: func(x *Index) { x.OnAdd(byUPN, true) },
			lookup: []Ref{NewRef("contoso", "kim@contoso.COM")},
			want:   []types.NamespacedName{key("kim-mobile")},
		},
		"an object by UPN is found by the object id once resolved": {
			events: func(x *Index) { x.OnAdd(byUPN, true); x.OnUpdate(byUPN, byUPNResolved) },
			lookup: []Ref{NewRef("contoso", "kim-id")},
			want:   []types.NamespacedName{key("kim-mobile")},
		},
		"objects naming one user by UPN and by id meet, each once": {
			events: func(x *Index) { x.OnAdd(byUPNResolved, true); x.OnAdd(byID, true) },
			lookup: []Ref{NewRef("contoso", "kim@contoso.com"), NewRef("contoso", "kim-id")},
			want:   []types.NamespacedName{key("kim-mobile"), key("kim-alt")},
		},
		"another tenant's object of the same user is not found": {
			events: func(x *Index) { x.OnAdd(byID, true); x.OnAdd(otherTenant, true) },
			lookup: []Ref{NewRef("contoso", "kim-id")},
			want:   []types.NamespacedName{key("kim-alt")},
		},
		"a deleted object is gone under both keys": {
			events: func(x *Index) { x.OnAdd(byUPNResolved, true); x.OnDelete(byUPNResolved) },
			lookup: []Ref{NewRef("contoso", "kim@contoso.com"), NewRef("contoso", "kim-id")},
		},
		"a delete seen only as a tombstone removes the object": {
			events: func(x *Index) {
				x.OnAdd(byID, true)
				x.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "team/kim-alt", Obj: byID})
			},
			lookup: []Ref{NewRef("contoso", "kim-id")},
		},
		"a changed spec.user moves the object": {
			events: func(x *Index) {
				x.OnAdd(byUPN, true)
				x.OnUpdate(byUPN, indexedPAM("kim-mobile", "contoso", "lee@contoso.com", ""))
			},
			lookup: []Ref{NewRef("contoso", "kim@contoso.com"), NewRef("contoso", "lee@contoso.com")},
			want:   []types.NamespacedName{key("kim-mobile")},
		},
		"an object added twice is listed once": {
			events: func(x *Index) { x.OnAdd(byUPN, true); x.OnAdd(byUPN, false) },
			lookup: []Ref{NewRef("contoso", "kim@contoso.com")},
			want:   []types.NamespacedName{key("kim-mobile")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			x := New()
			tc.events(x)
			got, err := x.lookup(tc.lookup)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lookup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIndexRefusesLookupsUntilSynced(t *testing.T) {
	x := New()
	synced := false
	x.synced = func() bool { return synced }
	if _, err := x.lookup([]Ref{NewRef("contoso", "kim")}); err == nil {
		t.Fatal("a lookup before the first list was delivered answered, and could miss a slot's owner")
	}
	synced = true
	if _, err := x.lookup([]Ref{NewRef("contoso", "kim")}); err != nil {
		t.Fatal(err)
	}
}

// TestKeysCountsEachTenantsUserKeys: the count follows adds, resolutions and deletes, per
// tenant, and a key two objects share counts once.
func TestKeysCountsEachTenantsUserKeys(t *testing.T) {
	x := New()
	mobile := indexedPAM("kim-mobile", "contoso", "kim@contoso.com", "")
	resolved := indexedPAM("kim-mobile", "contoso", "kim@contoso.com", "kim-id")
	alternate := indexedPAM("kim-alt", "contoso", "kim-id", "kim-id")
	elsewhere := indexedPAM("lee-mobile", "fabrikam", "lee@fabrikam.com", "")
	steps := []struct {
		event    func()
		contoso  int
		fabrikam int
	}{
		{func() { x.OnAdd(mobile, true) }, 1, 0},
		{func() { x.OnUpdate(mobile, resolved) }, 2, 0}, // the UPN and the resolved id
		{func() { x.OnAdd(alternate, true) }, 2, 0},     // the same id: no new key
		{func() { x.OnAdd(elsewhere, true) }, 2, 1},
		{func() { x.OnDelete(resolved) }, 1, 1}, // the id stays: the alternate holds it
		{func() { x.OnDelete(alternate) }, 0, 1},
	}
	for i, st := range steps {
		st.event()
		if c, f := x.Keys("contoso"), x.Keys("fabrikam"); c != st.contoso || f != st.fabrikam {
			t.Fatalf("step %d: Keys = contoso %d, fabrikam %d; want %d, %d", i, c, f, st.contoso, st.fabrikam)
		}
	}
}
