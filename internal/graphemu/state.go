package graphemu

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/phoneop/phoneop/internal/graph/methodid"
)

// tenant is the directory plus SMS sign-in policy of one Entra tenant.
type tenant struct {
	id     string
	policy SMSPolicy
	apps   map[string]*app   // by lower-case client id
	users  map[string]*user  // by lower-case object id
	byUPN  map[string]*user  // by lower-case UPN
	groups map[string]*group // by lower-case id; nil until a group is added
	// roleDefs are the directory role definitions by lower-case id (never nil), and roles the active and
	// eligible role assignments in the order added (roles.go).
	roleDefs map[string]RoleDefinition
	roles    []RoleAssignment
	// mobiles indexes users by the numberKey of a mobile number they hold or held: a superset,
	// checked against the current state on use, so that numberHeldByOther costs the few users
	// sharing a number instead of a scan of the tenant. Every write of a mobile number adds to it.
	mobiles map[string]map[*user]struct{}
	// retiredShape tells whether, and in which shape, SMS sign-in is retired now (the
	// emulator's retirement, retirement.go); nil never retires it.
	retiredShape func() RetirementShape
}

type app struct {
	App
	certs []*x509.Certificate
}

type user struct {
	User
	created time.Time
	methods map[string]*method // by phone type
	lag     *lagSnapshot       // what reads see while Faults.ReadLag lasts; nil: no Graph write yet
	// others are the user's authentication methods other than phones (passkeys, the
	// Authenticator app, a password, …), listed by /authentication/methods.
	others []AuthenticationMethod
}

// smsReg is whether SMS sign-in was registered on a mobile. Whether it is
// usable ("ready") also depends on policy and uniqueness, so the state
// Graph reports is computed on read (smsState).
type smsReg int

const (
	smsUnset    smsReg = iota // never registered: notConfigured
	smsEnabled                // registered: ready
	smsDisabled               // disableSmsSignIn was called: notEnabled
)

type method struct {
	phoneType string
	// number is the number as the rules see it (uniqueness, "is this a
	// change"): the documented form for numbers written through Graph.
	number string
	// display is the form Graph shows instead, when Faults.NumberFormat
	// reformatted the number on its write; "" shows number.
	display string
	sms     smsReg
	created time.Time // createdDateTime (Faults.ExtraProperties)
}

// shown is the number as stored and read back.
func (m *method) shown() string {
	if m.display != "" {
		return m.display
	}
	return m.number
}

// typeIDs maps phone types to Graph's fixed method ids, and back.
var typeIDs = map[string]string{Mobile: methodid.Mobile, AlternateMobile: methodid.AlternateMobile, Office: methodid.Office}

func typeOfID(id string) (string, bool) {
	for t, i := range typeIDs {
		if strings.EqualFold(i, id) {
			return t, true
		}
	}
	return "", false
}

// AddTenant adds a tenant, or replaces the SMS policy of an existing one.
func (e *Emulator) AddTenant(t Tenant) error {
	if t.ID == "" {
		return errorf("tenant id is empty")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.tenants[lower(t.ID)]; ok {
		old.policy = t.SMSSignIn
		return nil
	}
	e.tenants[lower(t.ID)] = &tenant{id: t.ID, policy: t.SMSSignIn, retiredShape: e.smsRetiredShape,
		apps: map[string]*app{}, users: map[string]*user{}, byUPN: map[string]*user{}, roleDefs: map[string]RoleDefinition{}}
	return nil
}

// SetSMSPolicy replaces a tenant's SMS sign-in policy.
func (e *Emulator) SetSMSPolicy(tenantID string, p SMSPolicy) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(tenantID)]
	if !ok {
		return notFoundf("unknown tenant %q", tenantID)
	}
	t.policy = p
	return nil
}

// AddApp registers (or replaces) an app in its tenant. It needs a secret,
// a certificate or a federated identity credential.
func (e *Emulator) AddApp(a App) error {
	if a.ClientID == "" || (a.ClientSecret == "" && len(a.CertificatePEM) == 0 && len(a.FederatedCredentials) == 0) {
		return errorf("app needs a client id and a secret, certificate or federated identity credential")
	}
	certs, err := parseCerts(a.CertificatePEM)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(a.TenantID)]
	if !ok {
		return notFoundf("unknown tenant %q", a.TenantID)
	}
	a.Permissions = append([]string(nil), a.Permissions...)
	t.apps[lower(a.ClientID)] = &app{App: a, certs: certs}
	return nil
}

// parseCerts reads every CERTIFICATE block of a PEM bundle.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for len(b) > 0 {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, errorf("parse certificate: %v", err)
		}
		out = append(out, c)
	}
	if len(b) > 0 && len(out) == 0 {
		return nil, errorf("no PEM certificate found")
	}
	return out, nil
}

// AddUser adds a user, or renames an existing one (same id). Phone methods
// of an existing user are kept.
func (e *Emulator) AddUser(u User) error {
	if u.ID == "" || u.UserPrincipalName == "" {
		return errorf("user needs an id and a userPrincipalName")
	}
	m, ok := validDefaultMethod(u.DefaultMethod)
	if !ok {
		return errorf("invalid defaultMethod %q (want a phone type or an authentication method kind)", u.DefaultMethod)
	}
	u.DefaultMethod = m
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(u.TenantID)]
	if !ok {
		return notFoundf("unknown tenant %q", u.TenantID)
	}
	if other, ok := t.byUPN[lower(u.UserPrincipalName)]; ok && !strings.EqualFold(other.ID, u.ID) {
		return errorf("userPrincipalName already used by another user")
	}
	if old, ok := t.users[lower(u.ID)]; ok {
		delete(t.byUPN, lower(old.UserPrincipalName))
		old.User = u
		t.byUPN[lower(u.UserPrincipalName)] = old
		return nil
	}
	nu := &user{User: u, created: e.now(), methods: map[string]*method{}}
	t.users[lower(u.ID)] = nu
	t.byUPN[lower(u.UserPrincipalName)] = nu
	return nil
}

// DeleteUser removes a user and its phone methods.
func (e *Emulator) DeleteUser(tenantID, userKey string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return err
	}
	delete(t.users, lower(u.ID))
	delete(t.byUPN, lower(u.UserPrincipalName))
	return nil
}

// Reset forgets every tenant, app, user, audit log and throttling bucket. Stats and
// faults are kept (reset them separately).
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.tenants = map[string]*tenant{}
	e.audit = nil
	e.mu.Unlock()
	e.throttle.reset()
}

// PhoneMethods reads a user's phone methods out of band (not counted, not
// throttled, no replication delay).
func (e *Emulator) PhoneMethods(tenantID, userKey string) ([]PhoneMethod, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return nil, err
	}
	return t.list(u), nil
}

// SetPhoneMethod creates or replaces a phone method out of band, as an
// admin in the Entra portal would (drift), and records it in the audit log
// as initiated by the user Admin. Only the type is validated.
// m.SMSSignInState selects the SMS registration: "ready" registers,
// "notEnabled" marks it disabled, "notConfigured" leaves it unregistered,
// and "" does what Graph does on a write (register a mobile when the policy
// includes the user and the number is free).
func (e *Emulator) SetPhoneMethod(tenantID, userKey string, m PhoneMethod) error {
	return e.setPhoneMethod(tenantID, userKey, m, true)
}

// setPhoneMethod is SetPhoneMethod; audited is false for seeds, which describe the state
// before the emulator started rather than changes made while it runs.
func (e *Emulator) setPhoneMethod(tenantID, userKey string, m PhoneMethod, audited bool) error {
	if _, ok := typeIDs[m.PhoneType]; !ok {
		return errorf("invalid phoneType %q", m.PhoneType)
	}
	if m.PhoneNumber == "" {
		return errorf("phoneNumber is empty")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return err
	}
	pm := &method{phoneType: m.PhoneType, number: m.PhoneNumber, created: e.now()}
	if audited {
		activity, reason := ActivityAdminRegistered, "Admin registered phone method for user"
		if _, replaced := u.methods[m.PhoneType]; replaced {
			activity, reason = ActivityAdminUpdated, "Admin changed phone method for user"
		}
		e.recordOutOfBand(t, u, activity, reason)
	}
	u.methods[m.PhoneType] = pm
	t.indexMobile(u, pm)
	u.lag = nil // out of band is the truth now, for reads too
	switch m.SMSSignInState {
	case SMSReady:
		pm.sms = smsEnabled
	case SMSNotEnabled:
		pm.sms = smsDisabled
	case "":
		t.autoRegister(u, pm)
	}
	return nil
}

// DeletePhoneMethod removes a phone method out of band, without Graph's
// rules (a mobile may go while an alternateMobile stays), and records it in
// the audit log as initiated by the user Admin.
func (e *Emulator) DeletePhoneMethod(tenantID, userKey, phoneType string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return err
	}
	if _, ok := u.methods[phoneType]; !ok {
		return notFoundf("user has no %q phone method", phoneType)
	}
	delete(u.methods, phoneType)
	u.lag = nil
	e.recordOutOfBand(t, u, ActivityAdminDeleted, "Admin deleted phone method for user")
	return nil
}

// lookupLocked finds a tenant and user for out-of-band calls.
func (e *Emulator) lookupLocked(tenantID, userKey string) (*tenant, *user, error) {
	t, ok := e.tenants[lower(tenantID)]
	if !ok {
		return nil, nil, notFoundf("unknown tenant %q", tenantID)
	}
	u := t.user(userKey)
	if u == nil {
		return nil, nil, notFoundf("unknown user")
	}
	return t, u, nil
}

// user finds a user by object id or UPN, case-insensitively.
func (t *tenant) user(key string) *user {
	if u, ok := t.users[lower(key)]; ok {
		return u
	}
	return t.byUPN[lower(key)]
}

// phoneTypes is Graph's usual list order.
var phoneTypes = []string{Mobile, AlternateMobile, Office}

// list answers the current methods in Graph's usual order, for the
// out-of-band reads (no read lag, no masking).
func (t *tenant) list(u *user) []PhoneMethod {
	out := []PhoneMethod{}
	for _, typ := range phoneTypes {
		if m, ok := u.methods[typ]; ok {
			out = append(out, t.view(u, m))
		}
	}
	return out
}

func (t *tenant) view(u *user, m *method) PhoneMethod {
	return PhoneMethod{ID: typeIDs[m.phoneType], PhoneNumber: m.shown(), PhoneType: m.phoneType,
		SMSSignInState: t.smsState(u, m)}
}

// smsState computes smsSignInState the way Graph reports it.
func (t *tenant) smsState(u *user, m *method) string {
	switch {
	case m.phoneType != Mobile:
		return SMSNotSupported
	case !t.policyIncludes(u):
		return SMSNotAllowedByPolicy
	case t.numberHeldByOther(u, m.number):
		return SMSPhoneNumberNotUnique
	case m.sms == smsEnabled:
		return SMSReady
	case m.sms == smsDisabled:
		return SMSNotEnabled
	default:
		return SMSNotConfigured
	}
}

// policyIncludes evaluates the tenant's SMS sign-in policy for u.
func (t *tenant) policyIncludes(u *user) bool {
	if userIn(t.policy.ExcludedUsers, u) || t.retired() == RetiredNotAllowedByPolicy {
		return false
	}
	return t.policy.AllUsers || userIn(t.policy.IncludedUsers, u)
}

// numberHeldByOther reports whether another user of the tenant has the
// number as a working SMS sign-in name. Numbers compare without spaces or
// extension.
func (t *tenant) numberHeldByOther(u *user, number string) bool {
	key := numberKey(number)
	for o := range t.mobiles[key] {
		if o == u || t.users[lower(o.ID)] != o {
			continue // the user itself, or a deleted user
		}
		om, ok := o.methods[Mobile]
		if ok && om.sms == smsEnabled && t.policyIncludes(o) && numberKey(om.number) == key {
			return true
		}
	}
	return false
}

// indexMobile records that u holds m's number, if m is a mobile.
func (t *tenant) indexMobile(u *user, m *method) {
	if m.phoneType != Mobile {
		return
	}
	if t.mobiles == nil {
		t.mobiles = map[string]map[*user]struct{}{}
	}
	key := numberKey(m.number)
	if t.mobiles[key] == nil {
		t.mobiles[key] = map[*user]struct{}{}
	}
	t.mobiles[key][u] = struct{}{}
}

// autoRegister does what Graph does when a mobile is added or its number
// changes: register it for SMS sign-in if the policy includes the user and
// the number is free. It reports false when the number is taken.
func (t *tenant) autoRegister(u *user, m *method) bool {
	if m.phoneType != Mobile {
		return true
	}
	m.sms = smsUnset
	if !t.policyIncludes(u) || t.retired() != "" {
		return true // a retired SMS sign-in registers nothing new, in either shape
	}
	if t.numberHeldByOther(u, m.number) {
		return false
	}
	m.sms = smsEnabled
	return true
}

// graphError is a Graph error response in the making.
type graphError struct {
	status  int
	code    string
	message string
	header  map[string]string
}

func gerr(status int, code, msg string) *graphError {
	return &graphError{status: status, code: code, message: msg}
}

func errUserNotFound(key string) *graphError {
	return gerr(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.")
}

func errMethodNotFound() *graphError {
	return gerr(http.StatusNotFound, "itemNotFound", "The requested phone authentication method was not found.")
}

func errNotUnique() *graphError {
	return gerr(http.StatusConflict, "phoneNumberNotUnique",
		"The phone number is already used for SMS sign-in by another user; the method was saved without SMS sign-in.")
}

// graphUser finds a user for a Graph request, honouring replication delay.
func (e *Emulator) graphUser(t *tenant, key string) (*user, *graphError) {
	u := t.user(key)
	if u == nil {
		return nil, errUserNotFound(key)
	}
	if d := e.opts.ReplicationDelay; d > 0 && e.now().Sub(u.created) < d {
		return nil, errUserNotFound(key)
	}
	return u, nil
}

// methodByID finds a method among a user's methods by Graph's fixed id.
func methodByID(ms map[string]*method, id string) (*method, *graphError) {
	typ, ok := typeOfID(id)
	if !ok {
		return nil, errMethodNotFound()
	}
	m, ok := ms[typ]
	if !ok {
		return nil, errMethodNotFound()
	}
	return m, nil
}

// newNumber is the number a Graph write sets, as the write decided it.
type newNumber struct {
	number  string // documented form (graphNumber)
	display string // stored form under Faults.NumberFormat; "" for number
	// unsavedClash: the write meets an invisible holder of the number
	// (Faults.RateNotUniqueUnsaved), so it answers 409 and saves nothing.
	unsavedClash bool
}

// set stores the number on m.
func (n newNumber) set(m *method) { m.number, m.display = n.number, n.display }

// clashes reports whether a write of typ meets an invisible holder; only
// mobile and alternateMobile numbers are checked for uniqueness.
func (n newNumber) clashes(typ string) bool {
	return n.unsavedClash && (typ == Mobile || typ == AlternateMobile)
}

// createMethod applies rules 1, 2 and 6. On a number clash the method is
// saved and a 409 phoneNumberNotUnique is returned with it; an invisible
// holder answers the same 409 and nothing is saved (nil method).
func (t *tenant) createMethod(u *user, typ string, n newNumber, now time.Time) (*method, *graphError) {
	if _, ok := u.methods[typ]; ok {
		return nil, gerr(http.StatusConflict, "conflict",
			"The user already has a phone method of type '"+typ+"'. Update it instead.")
	}
	if typ == AlternateMobile {
		if _, ok := u.methods[Mobile]; !ok {
			return nil, gerr(http.StatusBadRequest, "badRequest",
				"An alternateMobile phone can only be added when the user has a mobile phone.")
		}
	}
	if n.clashes(typ) {
		return nil, errNotUniqueUnsaved()
	}
	m := &method{phoneType: typ, created: now}
	n.set(m)
	u.methods[typ] = m
	t.indexMobile(u, m)
	if !t.autoRegister(u, m) {
		return m, errNotUnique()
	}
	return m, nil
}

// updateMethod applies rules 3 and 6: the type is immutable (a phoneType
// equal to the method's is fine: real callers send both fields) and a
// changed mobile number is re-registered for SMS sign-in.
func (t *tenant) updateMethod(u *user, m *method, p patchBody, n newNumber) *graphError {
	if p.PhoneType != nil && *p.PhoneType != m.phoneType {
		return gerr(http.StatusBadRequest, "badRequest",
			"The phoneType of a phone method can't be changed. Add the new type, then delete the old one.")
	}
	if p.PhoneNumber == nil {
		return nil
	}
	if ge := checkExtension(m.phoneType, n.number); ge != nil {
		return ge
	}
	if n.number == m.number {
		return nil
	}
	if n.clashes(m.phoneType) {
		return errNotUniqueUnsaved()
	}
	n.set(m)
	t.indexMobile(u, m)
	if !t.autoRegister(u, m) {
		return errNotUnique()
	}
	return nil
}

// checkExtension: Entra offers extensions on office phones only.
func checkExtension(typ, number string) *graphError {
	if typ != Office && strings.Contains(number, "x") {
		return errExtensionNotAllowed(typ)
	}
	return nil
}

// deleteMethod applies rule 2 (a mobile stays while an alternateMobile exists) and rule 9 (the
// user's default method stays while the user has other methods).
func deleteMethod(u *user, m *method) *graphError {
	if m.phoneType == Mobile {
		if _, ok := u.methods[AlternateMobile]; ok {
			return gerr(http.StatusBadRequest, "badRequest",
				"The mobile phone can't be deleted while an alternateMobile phone exists. Update the mobile number, then delete the alternateMobile phone.")
		}
	}
	if defaultMethodOf(u) == m.phoneType {
		if hasOtherMethods(u, m.phoneType) {
			return errDefaultMethod()
		}
		u.DefaultMethod = "" // the user's last method: the default goes with it
	}
	delete(u.methods, m.phoneType)
	return nil
}

// enableSMS applies rule 5.
func (t *tenant) enableSMS(u *user, m *method) *graphError {
	if m.phoneType != Mobile {
		return gerr(http.StatusBadRequest, "badRequest", "SMS sign-in can only be enabled on the mobile phone method.")
	}
	if t.retired() == RetiredEnableRefused {
		return errSMSSignInRetired()
	}
	if !t.policyIncludes(u) {
		return gerr(http.StatusBadRequest, "badRequest",
			"The user is not enabled for SMS sign-in by the authentication methods policy.")
	}
	if t.numberHeldByOther(u, m.number) {
		return gerr(http.StatusConflict, "phoneNumberNotUnique", "The phone number is already used for SMS sign-in by another user.")
	}
	m.sms = smsEnabled
	return nil
}

// disableSMS turns SMS sign-in off on the mobile.
func disableSMS(m *method) *graphError {
	if m.phoneType != Mobile {
		return gerr(http.StatusBadRequest, "badRequest", "SMS sign-in can only be disabled on the mobile phone method.")
	}
	m.sms = smsDisabled
	return nil
}

// userCount sizes the tenant for throttling.
func (e *Emulator) userCount(tenantID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.tenants[lower(tenantID)]; ok {
		return len(t.users)
	}
	return 0
}

func lower(s string) string { return strings.ToLower(s) }

// sortedKeys is used for deterministic dumps.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
