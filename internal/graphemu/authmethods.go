package graphemu

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// GET /users/{id}/authentication/methods lists every method a user has
// registered: the phones (as phoneMethods shows them, quirks included) and
// the others, each with its "@odata.type". The others are seeded (Seed,
// SetAuthenticationMethods) and never written through Graph here.

// Kinds of authentication methods other than phones, as AuthenticationMethod.Type takes
// them: the part of the Graph type name before "AuthenticationMethod".
const (
	MethodPassword                = "password"
	MethodFido2                   = "fido2"
	MethodMicrosoftAuthenticator  = "microsoftAuthenticator"
	MethodWindowsHelloForBusiness = "windowsHelloForBusiness"
	MethodSoftwareOath            = "softwareOath"
	MethodTemporaryAccessPass     = "temporaryAccessPass"
	MethodEmail                   = "email"
	MethodPlatformCredential      = "platformCredential"
	MethodExternal                = "external"
)

// methodKinds lists the kinds AuthenticationMethod.Type accepts.
var methodKinds = []string{MethodPassword, MethodFido2, MethodMicrosoftAuthenticator, MethodWindowsHelloForBusiness,
	MethodSoftwareOath, MethodTemporaryAccessPass, MethodEmail, MethodPlatformCredential, MethodExternal}

// passwordMethodID is the fixed id of every user's password method.
const passwordMethodID = "28c10230-6103-485e-b985-444c60001490"

// AuthenticationMethod is an authentication method other than a phone, for
// seeding. ID is generated (stable per user, kind and position) when empty.
type AuthenticationMethod struct {
	// Type is one of the Method* kinds, e.g. "fido2".
	Type        string `json:"type"`
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// SetAuthenticationMethods replaces a user's methods other than phones, out
// of band (not counted, not throttled).
func (e *Emulator) SetAuthenticationMethods(tenantID, userKey string, ms []AuthenticationMethod) error {
	out := make([]AuthenticationMethod, 0, len(ms))
	for _, m := range ms {
		kind, ok := methodKind(m.Type)
		if !ok {
			return errorf("unknown authentication method type %q (want one of %s)", m.Type, strings.Join(methodKinds, ", "))
		}
		m.Type = kind
		out = append(out, m)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return err
	}
	for i := range out {
		if out[i].ID != "" {
			continue
		}
		if out[i].Type == MethodPassword {
			out[i].ID = passwordMethodID
			continue
		}
		out[i].ID = uuid.NewSHA1(uuid.NameSpaceOID, []byte(lower(u.ID)+"/"+out[i].Type+"/"+strconv.Itoa(i))).String()
	}
	u.others = out
	return nil
}

// AuthenticationMethods returns a user's methods other than phones, out of band.
func (e *Emulator) AuthenticationMethods(tenantID, userKey string) ([]AuthenticationMethod, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, u, err := e.lookupLocked(tenantID, userKey)
	if err != nil {
		return nil, err
	}
	return slices.Clone(u.others), nil
}

// methodKind accepts a kind case-insensitively, with or without the
// "AuthenticationMethod" suffix or the "#microsoft.graph." prefix.
func methodKind(s string) (string, bool) {
	s = strings.TrimPrefix(s, "#microsoft.graph.")
	s = strings.TrimSuffix(s, "AuthenticationMethod")
	for _, k := range methodKinds {
		if strings.EqualFold(k, s) {
			return k, true
		}
	}
	return "", false
}

// odataTypeOf is the Graph type of a kind: external is
// externalAuthenticationMethod, the others <kind>AuthenticationMethod.
func odataTypeOf(kind string) string { return "#microsoft.graph." + kind + "AuthenticationMethod" }

// authMethodsBody renders the list: password first as Graph does, then
// phones in Graph's usual order, then the others in seeded order. The
// caller holds e.mu.
func (e *Emulator) authMethodsBody(t *tenant, u *user, ctx string, modes Faults) map[string]any {
	pc := phoneCall{t: t, u: u, modes: modes, now: e.now()}
	var items []map[string]any
	for _, m := range u.others {
		if m.Type == MethodPassword {
			items = append(items, renderOther(m))
		}
	}
	ms := u.readable(modes.ReadLag, e.now())
	for _, typ := range phoneTypes {
		if m, ok := ms[typ]; ok {
			item := pc.render(m, true)
			item["@odata.type"] = phoneEntityType
			items = append(items, item)
		}
	}
	for _, m := range u.others {
		if m.Type != MethodPassword {
			items = append(items, renderOther(m))
		}
	}
	if items == nil {
		items = []map[string]any{}
	}
	return map[string]any{"@odata.context": ctx + "/authentication/methods", "value": items}
}

// renderOther is a non-phone method with the properties Graph's v1.0
// resource pages show for its type (values invented but well-formed).
func renderOther(m AuthenticationMethod) map[string]any {
	created := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	out := map[string]any{"@odata.type": odataTypeOf(m.Type), "id": m.ID}
	name := m.DisplayName
	switch m.Type {
	case MethodPassword:
		out["password"] = nil
		out["createdDateTime"] = created
		return out
	case MethodFido2:
		out["model"] = "Security key"
		out["aaGuid"] = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
		out["attestationCertificates"] = []string{}
		out["attestationLevel"] = "attested"
	case MethodMicrosoftAuthenticator:
		out["deviceTag"] = "SoftwareTokenActivated"
		out["phoneAppVersion"] = "6.8.20"
	case MethodWindowsHelloForBusiness, MethodPlatformCredential:
		out["keyStrength"] = "normal"
	case MethodSoftwareOath:
		out["secretKey"] = nil
		return out
	case MethodTemporaryAccessPass:
		out["isUsable"] = true
		out["isUsableOnce"] = true
		out["lifetimeInMinutes"] = 60
		out["methodUsabilityReason"] = "EnabledByPolicy"
		return out
	case MethodEmail:
		out["emailAddress"] = name
		return out
	case MethodExternal:
		out["configurationId"] = "b0a1e2c3-0000-4000-8000-000000000000"
	}
	out["displayName"] = name
	out["createdDateTime"] = created
	return out
}
