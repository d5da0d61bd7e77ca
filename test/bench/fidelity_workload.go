package bench

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// A fidelity run's users start in one of these states, and each object therefore needs one
// Graph write or none. This is the definition of a "needed action": the least any client must
// write to make Graph match the spec, when it can read Graph.
type fidelityCase string

const (
	// caseMissing: Graph has no method of the object's type. Needed: one create (a new mobile
	// is registered for SMS sign-in by Graph itself, so no enable follows).
	caseMissing fidelityCase = "phone missing"
	// caseReformatted: the user's mobile holds the declared number in another form (no
	// space, the trunk prefix 0, or grouped with a dash). Needed: nothing.
	caseReformatted fidelityCase = "mobile seeded: the declared number, written another way"
	// caseSMSOff: the mobile holds the declared number with SMS sign-in off (notEnabled).
	// Needed: one enableSmsSignIn.
	caseSMSOff fidelityCase = "mobile seeded: the declared number, SMS sign-in off"
	// caseDiffers: the mobile holds another number. Needed: one number update (Graph
	// registers the new number for SMS sign-in by itself).
	caseDiffers fidelityCase = "mobile seeded: another number"
	// caseMasked: a user whose numbers Graph masks on reads; every declared phone exists.
	// Needed: nothing may be written (phoneop cannot compare what it cannot read), and the
	// object must end NumberUnreadable.
	caseMasked fidelityCase = "masked user: every phone seeded, half the mobiles with another number"
)

// Graph operations, as the emulator's routes are named in the report (opName).
const (
	opCreate  = "createPhoneMethod"
	opUpdate  = "updatePhoneMethod"
	opEnable  = "enableSmsSignIn"
	opDisable = "disableSmsSignIn"
	opDelete  = "deletePhoneMethod"
	opList    = "listPhoneMethods"
	opGetUser = "getUser"
)

func isWriteOp(op string) bool {
	switch op {
	case opCreate, opUpdate, opEnable, opDisable, opDelete:
		return true
	}
	return false
}

// neededOp is the Graph write a case needs, "" for none.
func (c fidelityCase) neededOp() string {
	switch c {
	case caseMissing:
		return opCreate
	case caseSMSOff:
		return opEnable
	case caseDiffers:
		return opUpdate
	}
	return ""
}

// fidelityObject is one PhoneAuthMethod of a fidelity run and what it needs.
type fidelityObject struct {
	obj    *identityv1alpha1.PhoneAuthMethod
	user   user
	c      fidelityCase
	masked bool
	wave   int
}

func (o fidelityObject) key() string { return o.obj.Namespace + "/" + o.obj.Name }

// row is the line of the cases table the object counts in.
func (o fidelityObject) row() string {
	if o.masked {
		return string(caseMasked)
	}
	return string(o.obj.Spec.PhoneType) + ": " + string(o.c)
}

// fidelityWorkload is the users of the two tenants, the seeded phones and the objects.
type fidelityWorkload struct {
	users   []user // the main tenant's
	masked  []user // the masked tenant's: every Graph read of them masks their numbers
	objects []fidelityObject
	// seeded is the phone methods each user starts with (by object id); the masked users'
	// must be the same at the end.
	seeded map[string][]graphemu.PhoneMethod
	waves  int
}

const (
	maskedNamespace  = "bench-masked"
	maskedTenantName = "bench-masked"
)

// newFidelityWorkload spreads the cases over n users by strides coprime to 100 (any 100
// consecutive users hold the percentages exactly, as Mix does): maskedPercent of the users are
// masked (in their own tenant, so that Graph's per-tenant counts show every write to them);
// of the others' mobiles 10 % are seeded with the declared number written another way, 5 %
// with it and SMS sign-in off, 10 % with another number, and the rest are missing, as are
// all their alternates and offices. Numbers are German (user.german). User i is created in
// wave i % waves.
func newFidelityWorkload(n int, mix Mix, maskedPercent, waves int) fidelityWorkload {
	w := fidelityWorkload{seeded: map[string][]graphemu.PhoneMethod{}, waves: max(waves, 1)}
	enabled := identityv1alpha1.SMSSignInEnabled
	for i := range n {
		u := newUser(i)
		u.german = true
		masked := (i*53)%100 < maskedPercent
		ns, tenant := namespace, tenantName
		if masked {
			ns, tenant = maskedNamespace, maskedTenantName
			w.masked = append(w.masked, u)
		} else {
			w.users = append(w.users, u)
		}
		mobileCase := caseMissing
		switch k := (i * 13) % 100; {
		case masked:
			mobileCase = caseMasked
		case k < 10:
			mobileCase = caseReformatted
		case k < 15:
			mobileCase = caseSMSOff
		case k < 25:
			mobileCase = caseDiffers
		}
		for _, t := range mix.types(i) {
			p := &identityv1alpha1.PhoneAuthMethod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("u%06d-%s", i, lowerType(t)), Namespace: ns},
				Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenant},
					User: u.upn, PhoneType: t, PhoneNumber: u.number(t)},
			}
			c := caseMissing
			if t == identityv1alpha1.PhoneTypeMobile {
				p.Spec.SMSSignIn = &enabled
				c = mobileCase
			}
			if masked {
				c = caseMasked
			}
			w.objects = append(w.objects, fidelityObject{obj: p, user: u, c: c, masked: masked, wave: i % w.waves})
			if m, ok := seededMethod(u, t, c); ok {
				w.seeded[u.id] = append(w.seeded[u.id], m)
			}
		}
	}
	return w
}

// seededMethod is the method user u starts with for phone type t in case c, if any.
func seededMethod(u user, t identityv1alpha1.PhoneType, c fidelityCase) (graphemu.PhoneMethod, bool) {
	m := graphemu.PhoneMethod{PhoneType: string(t), PhoneNumber: u.number(t)}
	switch c {
	case caseReformatted:
		m.PhoneNumber = otherForm(m.PhoneNumber, (u.index*13)%100)
	case caseSMSOff:
		m.SMSSignInState = graphemu.SMSNotEnabled
	case caseDiffers:
		m.PhoneNumber = u.otherNumber()
	case caseMasked:
		if t == identityv1alpha1.PhoneTypeMobile && u.index%2 == 0 {
			m.PhoneNumber = u.otherNumber()
		}
	default:
		return graphemu.PhoneMethod{}, false
	}
	return m, true
}

// otherNumber is a seeded mobile that differs from the declared one.
func (u user) otherNumber() string { return fmt.Sprintf("+49 157%08d", u.index) }

// otherForm writes a documented "+CC NATIONAL" number in one of the forms Graph has been seen
// to store (the emulator's -number-format modes): without the space, with the national trunk
// prefix 0, or grouped with a space and a dash.
func otherForm(number string, k int) string {
	cc, national, _ := strings.Cut(number, " ")
	switch k % 3 {
	case 0:
		return cc + national
	case 1:
		return cc + " 0" + national
	}
	n := len(national)
	return cc + " " + national[:3] + " " + national[3:n-4] + "-" + national[n-4:]
}

// seed is the emulator's seed: the main and the masked tenant (SMS sign-in for everybody),
// one app each, the users and their seeded phones.
func (w fidelityWorkload) seed(main, masked *tenantIDs) graphemu.Seed {
	s := graphemu.Seed{}
	for _, t := range []*tenantIDs{main, masked} {
		s.Tenants = append(s.Tenants, graphemu.Tenant{ID: t.tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}})
		s.Apps = append(s.Apps, graphemu.SeedApp{TenantID: t.tenantID, ClientID: t.clientID, ClientSecret: t.secret,
			Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll, graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}})
	}
	add := func(t *tenantIDs, users []user) {
		for _, u := range users {
			s.Users = append(s.Users, graphemu.SeedUser{User: graphemu.User{TenantID: t.tenantID, ID: u.id, UserPrincipalName: u.upn},
				PhoneMethods: w.seeded[u.id]})
		}
	}
	add(main, w.users)
	add(masked, w.masked)
	return s
}

// tenantIDs are an emulated tenant's and its app's ids.
type tenantIDs struct{ tenantID, clientID, secret string }

// maskUsersFlag is the emulator flag that masks the masked users' numbers on reads.
func (w fidelityWorkload) maskUsersFlag() string {
	ids := make([]string, 0, len(w.masked))
	for _, u := range w.masked {
		ids = append(ids, u.id)
	}
	return "-mask-users=" + strings.Join(ids, ",")
}

// needed counts the needed actions by Graph operation, over the objects that keep matches.
func (w fidelityWorkload) needed(keep func(fidelityObject) bool) map[string]int {
	out := map[string]int{}
	for _, o := range w.objects {
		if op := o.c.neededOp(); op != "" && !o.masked && keep(o) {
			out[op]++
		}
	}
	return out
}

// rows lists the cases table's rows in a fixed order.
func (w fidelityWorkload) rows() []string {
	seen := map[string]bool{}
	var rows []string
	for _, o := range w.objects {
		if r := o.row(); !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rowOrder(rows[i]) < rowOrder(rows[j]) })
	return rows
}

func rowOrder(r string) string {
	for i, prefix := range []string{"mobile: ", "alternateMobile: ", "office: ", string(caseMasked)} {
		if strings.HasPrefix(r, prefix) {
			return fmt.Sprintf("%d %s", i, r)
		}
	}
	return "9 " + r
}
