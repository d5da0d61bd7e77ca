package graphemu

import (
	"encoding/json"
	"slices"
	"time"
)

// Seed is the JSON document that loads tenants, apps, users and existing
// phone methods (used by the admin API and hack/graph-emulator).
type Seed struct {
	Tenants []Tenant   `json:"tenants,omitempty"`
	Apps    []SeedApp  `json:"apps,omitempty"`
	Users   []SeedUser `json:"users,omitempty"`
	// Groups are loaded after the users, so members may name users of the same seed.
	Groups []Group `json:"groups,omitempty"`
	// RoleDefinitions and RoleAssignments (active, or eligible with "eligible": true) are loaded
	// last, so an assignment may name a user or a role-assignable group of the same seed.
	RoleDefinitions []RoleDefinition `json:"roleDefinitions,omitempty"`
	RoleAssignments []RoleAssignment `json:"roleAssignments,omitempty"`
}

// SeedApp is App with the certificate as PEM text.
type SeedApp struct {
	TenantID       string   `json:"tenantId"`
	ClientID       string   `json:"clientId"`
	ClientSecret   string   `json:"clientSecret,omitempty"`
	CertificatePEM string   `json:"certificatePem,omitempty"`
	Permissions    []string `json:"permissions"`
}

// SeedUser is a user with its phone methods. A method's smsSignInState
// follows SetPhoneMethod: "ready", "notEnabled", "notConfigured", or ""
// for Graph's automatic registration.
type SeedUser struct {
	User
	PhoneMethods []PhoneMethod `json:"phoneMethods,omitempty"`
	// AuthenticationMethods are the user's other methods (passkeys, the Authenticator app, a
	// password, …), listed with the phones by /authentication/methods. A seed that names a
	// user again replaces them only when the field is present.
	AuthenticationMethods []AuthenticationMethod `json:"authenticationMethods,omitempty"`
}

// LoadSeed adds (or updates) everything in s, tenants first.
func (e *Emulator) LoadSeed(s Seed) error {
	for _, t := range s.Tenants {
		if err := e.AddTenant(t); err != nil {
			return err
		}
	}
	for _, a := range s.Apps {
		app := App{TenantID: a.TenantID, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
			CertificatePEM: []byte(a.CertificatePEM), Permissions: a.Permissions}
		if err := e.AddApp(app); err != nil {
			return err
		}
	}
	for _, u := range s.Users {
		if err := e.AddUser(u.User); err != nil {
			return err
		}
		for _, m := range u.PhoneMethods {
			if err := e.setPhoneMethod(u.TenantID, u.ID, m, false); err != nil {
				return err
			}
		}
		if u.AuthenticationMethods != nil {
			if err := e.SetAuthenticationMethods(u.TenantID, u.ID, u.AuthenticationMethods); err != nil {
				return err
			}
		}
	}
	for _, g := range s.Groups {
		if err := e.AddGroup(g); err != nil {
			return err
		}
	}
	for _, d := range s.RoleDefinitions {
		if err := e.AddRoleDefinition(d); err != nil {
			return err
		}
	}
	for _, a := range s.RoleAssignments {
		if err := e.AddRoleAssignment(a); err != nil {
			return err
		}
	}
	return nil
}

// Dump returns the whole state as a Seed, phone numbers included (it is
// for the admin API; never log it). smsSignInState is the computed state.
func (e *Emulator) Dump() Seed {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s Seed
	for _, tk := range sortedKeys(e.tenants) {
		t := e.tenants[tk]
		s.Tenants = append(s.Tenants, Tenant{ID: t.id, SMSSignIn: t.policy})
		for _, ak := range sortedKeys(t.apps) {
			a := t.apps[ak]
			s.Apps = append(s.Apps, SeedApp{TenantID: t.id, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
				CertificatePEM: string(a.CertificatePEM), Permissions: a.Permissions})
		}
		for _, uk := range sortedKeys(t.users) {
			u := t.users[uk]
			s.Users = append(s.Users, SeedUser{User: u.User, PhoneMethods: t.list(u), AuthenticationMethods: slices.Clone(u.others)})
		}
		for _, gk := range sortedKeys(t.groups) {
			g := t.groups[gk]
			s.Groups = append(s.Groups, Group{TenantID: t.id, ID: g.id, DisplayName: g.displayName, Members: slices.Clone(g.members), IsAssignableToRole: g.assignableToRole})
		}
		for _, dk := range sortedKeys(t.roleDefs) {
			s.RoleDefinitions = append(s.RoleDefinitions, t.roleDefs[dk])
		}
		s.RoleAssignments = append(s.RoleAssignments, t.roles...)
	}
	return s
}

// faultsJSON is Faults as JSON, with its durations as Duration strings
// ("250ms"). Faults keeps time.Duration fields so that Go callers write
// plain durations; the fields are listed here in Faults' order, which is the
// order GET /faults answers in.
type faultsJSON struct {
	Latency              Duration `json:"latency,omitempty"`
	Jitter               Duration `json:"jitter,omitempty"`
	Rate429              float64  `json:"rate429,omitempty"`
	Rate5xx              float64  `json:"rate5xx,omitempty"`
	RateDrop             float64  `json:"rateDrop,omitempty"`
	RateLostResponse     float64  `json:"rateLostResponse,omitempty"`
	RetryAfterSeconds    int      `json:"retryAfterSeconds,omitempty"`
	NumberFormat         string   `json:"numberFormat,omitempty"`
	ReadLag              Duration `json:"readLag,omitempty"`
	MaskNumbers          bool     `json:"maskNumbers,omitempty"`
	MaskUsers            []string `json:"maskUsers,omitempty"`
	RateNotUniqueUnsaved float64  `json:"rateNotUniqueUnsaved,omitempty"`
	ShuffleLists         bool     `json:"shuffleLists,omitempty"`
	ExtraProperties      bool     `json:"extraProperties,omitempty"`
	RateUnknownError     float64  `json:"rateUnknownError,omitempty"`
}

// MarshalJSON writes durations as strings such as "250ms".
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Latency: Duration(f.Latency), Jitter: Duration(f.Jitter), ReadLag: Duration(f.ReadLag),
		Rate429: f.Rate429, Rate5xx: f.Rate5xx, RateDrop: f.RateDrop,
		RateLostResponse: f.RateLostResponse, RetryAfterSeconds: f.RetryAfterSeconds,
		NumberFormat: string(f.NumberFormat), MaskNumbers: f.MaskNumbers, MaskUsers: f.MaskUsers,
		RateNotUniqueUnsaved: f.RateNotUniqueUnsaved, ShuffleLists: f.ShuffleLists,
		ExtraProperties: f.ExtraProperties, RateUnknownError: f.RateUnknownError})
}

// UnmarshalJSON reads durations as strings such as "250ms" and refuses an
// unknown numberFormat.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	numberFormat, err := ParseNumberFormat(j.NumberFormat)
	if err != nil {
		return err
	}
	*f = Faults{
		Latency: time.Duration(j.Latency), Jitter: time.Duration(j.Jitter), ReadLag: time.Duration(j.ReadLag),
		Rate429: j.Rate429, Rate5xx: j.Rate5xx, RateDrop: j.RateDrop,
		RateLostResponse: j.RateLostResponse, RetryAfterSeconds: j.RetryAfterSeconds,
		NumberFormat: numberFormat, MaskNumbers: j.MaskNumbers, MaskUsers: j.MaskUsers,
		RateNotUniqueUnsaved: j.RateNotUniqueUnsaved, ShuffleLists: j.ShuffleLists,
		ExtraProperties: j.ExtraProperties, RateUnknownError: j.RateUnknownError}
	return nil
}
