package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/privileged"
)

func TestKeyNumber(t *testing.T) {
	key := []byte("a key for this test only")
	cases := map[string]struct {
		a, b      string
		wantSame  bool
		wantUnkey bool // a cannot be keyed
	}{
		"a space does not make another number":           {a: "+1 2065550100", b: "+12065550100", wantSame: true},
		"punctuation does not either":                    {a: "+1 2065550100", b: "+1 (206) 555-0100", wantSame: true},
		"nor a national trunk prefix":                    {a: "+44 7700900123", b: "+44 07700900123", wantSame: true},
		"an extension is another phone":                  {a: "+1 2065550100", b: "+1 2065550100x12"},
		"another number is another number":               {a: "+1 2065550100", b: "+1 2065550101"},
		"a masked number cannot be compared":             {a: "+1 ********00", wantUnkey: true},
		"something that is not a number cannot either":   {a: "+1 55", wantUnkey: true},
		"an empty number (a reader without rights) none": {a: "", wantUnkey: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ma, ok := keyNumber(key, tc.a)
			if ok == tc.wantUnkey {
				t.Fatalf("keyNumber(%q) ok = %v, want %v", tc.a, ok, !tc.wantUnkey)
			}
			if tc.wantUnkey {
				return
			}
			mb, _ := keyNumber(key, tc.b)
			if (ma == mb) != tc.wantSame {
				t.Errorf("same hash = %v, want %v", ma == mb, tc.wantSame)
			}
			if strings.Contains(ma, "2065550100") || strings.Contains(ma, "7700900123") {
				t.Error("the hash holds the number")
			}
		})
	}
	// Another run's key gives other hashes: nothing printed or kept is comparable across runs.
	m1, _ := keyNumber(key, "+1 2065550100")
	m2, _ := keyNumber([]byte("another run's key"), "+1 2065550100")
	if m1 == m2 {
		t.Error("two keys hash a number alike")
	}
}

func TestGroupShared(t *testing.T) {
	u := func(name, ns string, phones ...keyedPhone) User {
		return User{User: name + "@contoso.com", UserID: name + "-id", Namespace: ns, phones: phones}
	}
	p := func(mac, phoneType string) keyedPhone { return keyedPhone{mac: mac, phoneType: phoneType} }
	m := func(name, ns string, types ...string) SharedMember {
		return SharedMember{User: name + "@contoso.com", UserID: name + "-id", Namespace: ns, PhoneTypes: types}
	}
	cases := map[string]struct {
		users []User
		want  []SharedGroup
	}{
		"nobody shares": {users: []User{u("kim", "a", p("1", "mobile")), u("lee", "a", p("2", "mobile"))}},
		"one user's two phones with one number are no group": {users: []User{u("sam", "a", p("1", "mobile"), p("1", "office"))}},
		"two users share; a member lists every phone type with the number": {
			users: []User{u("sam", "a", p("1", "office"), p("1", "mobile")), u("ana", "b", p("1", "alternateMobile"))},
			want:  []SharedGroup{{Group: 1, Size: 2, Members: []SharedMember{m("ana", "b", "alternateMobile"), m("sam", "a", "mobile", "office")}}}},
		"largest group first, then by first member": {
			users: []User{u("zed", "a", p("1", "mobile")), u("amy", "a", p("1", "mobile")),
				u("bob", "a", p("2", "mobile")), u("cat", "a", p("2", "mobile")), u("dan", "a", p("2", "office")),
				u("eve", "a", p("3", "mobile")), u("fay", "a", p("3", "mobile"))},
			want: []SharedGroup{
				{Group: 1, Size: 3, Members: []SharedMember{m("bob", "a", "mobile"), m("cat", "a", "mobile"), m("dan", "a", "office")}},
				{Group: 2, Size: 2, Members: []SharedMember{m("amy", "a", "mobile"), m("zed", "a", "mobile")}},
				{Group: 3, Size: 2, Members: []SharedMember{m("eve", "a", "mobile"), m("fay", "a", "mobile")}},
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, groupShared(tc.users)); d != "" {
				t.Errorf("-want +got:\n%s", d)
			}
		})
	}
}

func TestPopulationOf(t *testing.T) {
	admins := privileged.Set{"a0": "holds Global Administrator"}
	cases := map[string]struct {
		user graph.User
		want string
	}{
		"a role holder is an administrator":            {user: graph.User{ID: "A0", UserType: "Member"}, want: PopulationAdministrator},
		"a guest holding a role is an administrator":   {user: graph.User{ID: "a0", UserType: "Guest"}, want: PopulationAdministrator},
		"userType Guest is a guest":                    {user: graph.User{ID: "g1", UserType: "Guest"}, want: PopulationGuest},
		"a #EXT# account is a guest":                   {user: graph.User{ID: "g2", UserPrincipalName: "x_fabrikam.com#EXT#@contoso.onmicrosoft.com"}, want: PopulationGuest},
		"anyone else is a member":                      {user: graph.User{ID: "m1", UserType: "Member"}, want: PopulationMember},
		"a user whose userType Graph left out: member": {user: graph.User{ID: "m2"}, want: PopulationMember},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := populationOf(tc.user, admins); got != tc.want {
				t.Errorf("populationOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBuildSMSView(t *testing.T) {
	users := []User{
		{User: "lee@contoso.com", Namespace: "team-b"},
		{User: "kim@contoso.com", Namespace: "team-a"},
		{User: "adm@contoso.com", Namespace: Unmanaged},
		{User: "gst@contoso.com", Namespace: "team-a"},
		{User: "unread@contoso.com", Namespace: "team-a"},
	}
	pops := []string{PopulationMember, PopulationMember, PopulationAdministrator, PopulationGuest, ""}
	cases := map[string]struct {
		listed     bool
		wantListed []SMSUser
	}{
		"counts and the users, sorted": {listed: true, wantListed: []SMSUser{
			{User: "adm@contoso.com", Namespace: Unmanaged, Population: PopulationAdministrator},
			{User: "gst@contoso.com", Namespace: "team-a", Population: PopulationGuest},
			{User: "kim@contoso.com", Namespace: "team-a", Population: PopulationMember},
			{User: "lee@contoso.com", Namespace: "team-b", Population: PopulationMember}}},
		"counts only": {wantListed: []SMSUser{}},
	}
	wantCounts := []SMSCount{
		{Namespace: "team-a", Guests: 1, Members: 1, Total: 2},
		{Namespace: "team-b", Members: 1, Total: 1},
		{Namespace: Unmanaged, Administrators: 1, Total: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v := buildSMSView(users, pops, tc.listed)
			if v.SMSSignIn != 4 {
				t.Errorf("%d SMS sign-in users, want 4 (the unread one left out)", v.SMSSignIn)
			}
			if d := cmp.Diff(wantCounts, v.Counts); d != "" {
				t.Errorf("counts -want +got:\n%s", d)
			}
			if d := cmp.Diff(tc.wantListed, v.Listed); d != "" {
				t.Errorf("listed -want +got:\n%s", d)
			}
		})
	}
}

func TestViewOutputs(t *testing.T) {
	sms := &SMSView{Tenant: "contoso", Selection: "all users", Users: 9, SMSSignIn: 2, AdministratorsKnown: false,
		Counts: []SMSCount{{Namespace: "team-a", Administrators: 1, Total: 1}, {Namespace: Unmanaged, Guests: 1, Total: 1}},
		Listed: []SMSUser{{User: "adm@contoso.com", UserID: "id-1", Namespace: "team-a", Population: PopulationAdministrator},
			{User: "gst@contoso.com", Namespace: Unmanaged, Population: PopulationGuest}}}
	shared := &SharedView{Tenant: "contoso", Selection: "all users", Users: 9, Phones: 12, Unreadable: 1,
		Groups: []SharedGroup{{Group: 1, Size: 2, Members: []SharedMember{
			{User: "ana@contoso.com", UserID: "id-3", Namespace: Unmanaged, PhoneTypes: []string{"mobile"}},
			{User: "sam@contoso.com", UserID: "id-4", Namespace: "team-a", PhoneTypes: []string{"mobile", "office"}}}}}}
	cases := map[string]struct {
		write func(*bytes.Buffer) error
		want  []string
	}{
		"SMS table: counts, TOTAL, the users, and the missing permission": {write: func(b *bytes.Buffer) error { return sms.Write(b, "table") },
			want: []string{"2 sign in with SMS", "RoleManagement.Read.Directory", "NAMESPACE    ADMINISTRATORS  GUESTS  MEMBERS  TOTAL", "TOTAL        1               1       0        2", "adm@contoso.com  team-a       administrator"}},
		"SMS csv: one row per user": {write: func(b *bytes.Buffer) error { return sms.Write(b, "csv") },
			want: []string{"user,userId,namespace,population\nadm@contoso.com,id-1,team-a,administrator\ngst@contoso.com,,(unmanaged),guest\n"}},
		"SMS json: everything": {write: func(b *bytes.Buffer) error { return sms.Write(b, "json") },
			want: []string{`"smsSignInReady": 2`, `"administratorsKnown": false`, `"administrators": 1`}},
		"shared table: the summary and one line per member": {write: func(b *bytes.Buffer) error { return shared.Write(b, "table") },
			want: []string{"12 phones compared (1 masked or unreadable, not compared): 1 groups of users share a number, 2 users in all", "sam@contoso.com  id-4     team-a       mobile,office"}},
		"shared csv: one row per member": {write: func(b *bytes.Buffer) error { return shared.Write(b, "csv") },
			want: []string{"group,groupSize,user,userId,namespace,phoneTypes\n1,2,ana@contoso.com,id-3,(unmanaged),mobile\n1,2,sam@contoso.com,id-4,team-a,mobile office\n"}},
		"shared json: everything": {write: func(b *bytes.Buffer) error { return shared.Write(b, "json") },
			want: []string{`"phonesCompared": 12`, `"phonesNotCompared": 1`, `"users": 2`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
