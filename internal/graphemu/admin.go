package graphemu

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// serveAdmin is the out-of-band API under /_emulator/ (no Graph token).
// Routes (JSON in and out):
//
//	GET    /_emulator/state                                        whole state as a Seed
//	POST   /_emulator/seed                                         merge a Seed
//	POST   /_emulator/reset                                        forget everything (optional Seed body loaded after)
//	PUT    /_emulator/tenants/{t}/smsSignInPolicy                  replace the SMS policy
//	DELETE /_emulator/tenants/{t}/users/{u}                        delete a user
//	GET    /_emulator/tenants/{t}/users/{u}/phoneMethods            list (no stats, no throttling)
//	PUT    /_emulator/tenants/{t}/users/{u}/phoneMethods/{type}     create/replace out of band
//	DELETE /_emulator/tenants/{t}/users/{u}/phoneMethods/{type}     delete out of band
//	GET    /_emulator/tenants/{t}/users/{u}/authenticationMethods   the other methods (not phones)
//	PUT    /_emulator/tenants/{t}/users/{u}/authenticationMethods   replace them: [{"type":"fido2"},…]
//	GET    /_emulator/tenants/{t}/users/{u}/defaultMethod           {"defaultMethod":"mobile"} ("" for none)
//	PUT    /_emulator/tenants/{t}/users/{u}/defaultMethod           set it ({"defaultMethod":""}: the rule)
//	GET    /_emulator/stats, DELETE /_emulator/stats               read / reset call counts
//	       (?tenant={t}: that tenant's only, see TenantStats)
//	GET    /_emulator/priorities                                   Graph requests by x-ms-throttle-priority
//	       (PriorityStats, ?tenant={t}: TenantPriorityStats; DELETE /_emulator/stats resets them too)
//	GET    /_emulator/faults, PUT /_emulator/faults                read / replace faults
//	GET    /_emulator/smsSignInRetirement, PUT …                   read / replace the SMS sign-in
//	       retirement: {"at":"2027-02-01T00:00:00Z","shape":"enableRefused"|"notAllowedByPolicy"};
//	       {} ends it
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_emulator"), "/"), "/")
	key := r.Method + " " + segs[0]
	switch {
	case key == "GET state" && len(segs) == 1:
		writeJSON(w, http.StatusOK, e.Dump())
	case key == "POST seed" && len(segs) == 1:
		e.adminSeed(w, r, false)
	case key == "POST reset" && len(segs) == 1:
		e.adminSeed(w, r, true)
	case key == "GET stats" && len(segs) == 1:
		writeJSON(w, http.StatusOK, e.adminStats(r))
	case key == "DELETE stats" && len(segs) == 1:
		e.adminResetStats(r)
		w.WriteHeader(http.StatusNoContent)
	case key == "GET priorities" && len(segs) == 1:
		if q := r.URL.Query(); q.Has("tenant") {
			writeJSON(w, http.StatusOK, e.TenantPriorityStats(q.Get("tenant")))
			return
		}
		writeJSON(w, http.StatusOK, e.PriorityStats())
	case key == "GET faults" && len(segs) == 1:
		writeJSON(w, http.StatusOK, e.CurrentFaults())
	case key == "PUT faults" && len(segs) == 1:
		var f Faults
		if decodeAdmin(w, r, &f) {
			e.SetFaults(f)
			w.WriteHeader(http.StatusNoContent)
		}
	case key == "GET smsSignInRetirement" && len(segs) == 1:
		writeJSON(w, http.StatusOK, e.CurrentSMSSignInRetirement())
	case key == "PUT smsSignInRetirement" && len(segs) == 1:
		var ret SMSSignInRetirement
		if decodeAdmin(w, r, &ret) {
			adminDone(w, e.SetSMSSignInRetirement(ret))
		}
	case segs[0] == "tenants" && len(segs) >= 3:
		e.adminTenant(w, r, segs[1], segs[2:])
	default:
		adminError(w, http.StatusNotFound, "no such admin route: "+r.Method+" "+r.URL.Path)
	}
}

// adminStats answers all stats, or one tenant's with ?tenant= (an empty
// value selects the calls no tenant could be told for).
func (e *Emulator) adminStats(r *http.Request) []Stat {
	if q := r.URL.Query(); q.Has("tenant") {
		return e.TenantStats(q.Get("tenant"))
	}
	return e.Stats()
}

func (e *Emulator) adminResetStats(r *http.Request) {
	if q := r.URL.Query(); q.Has("tenant") {
		e.ResetTenantStats(q.Get("tenant"))
		return
	}
	e.ResetStats()
}

// adminSeed merges a seed, after a reset when asked; an empty body is an
// empty seed.
func (e *Emulator) adminSeed(w http.ResponseWriter, r *http.Request, reset bool) {
	var s Seed
	if r.ContentLength != 0 && !decodeAdmin(w, r, &s) {
		return
	}
	if reset {
		e.Reset()
	}
	if err := e.LoadSeed(s); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminTenant serves the per-tenant routes.
func (e *Emulator) adminTenant(w http.ResponseWriter, r *http.Request, tenantID string, rest []string) {
	var err error
	switch {
	case len(rest) == 1 && rest[0] == "smsSignInPolicy" && r.Method == http.MethodPut:
		var p SMSPolicy
		if !decodeAdmin(w, r, &p) {
			return
		}
		err = e.SetSMSPolicy(tenantID, p)
	case len(rest) == 2 && rest[0] == "users" && r.Method == http.MethodDelete:
		err = e.DeleteUser(tenantID, rest[1])
	case len(rest) >= 3 && rest[0] == "users" && rest[2] == "phoneMethods":
		e.adminPhone(w, r, tenantID, rest[1], rest[3:])
		return
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "authenticationMethods" && r.Method == http.MethodGet:
		ms, err := e.AuthenticationMethods(tenantID, rest[1])
		if err != nil {
			adminDone(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ms)
		return
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "defaultMethod" && r.Method == http.MethodGet:
		m, err := e.DefaultMethod(tenantID, rest[1])
		if err != nil {
			adminDone(w, err)
			return
		}
		writeJSON(w, http.StatusOK, DefaultMethodBody{DefaultMethod: m})
		return
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "defaultMethod" && r.Method == http.MethodPut:
		var b DefaultMethodBody
		if !decodeAdmin(w, r, &b) {
			return
		}
		err = e.SetDefaultMethod(tenantID, rest[1], b.DefaultMethod)
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "authenticationMethods" && r.Method == http.MethodPut:
		var ms []AuthenticationMethod
		if !decodeAdmin(w, r, &ms) {
			return
		}
		err = e.SetAuthenticationMethods(tenantID, rest[1], ms)
	default:
		adminError(w, http.StatusNotFound, "no such admin route: "+r.Method+" "+r.URL.Path)
		return
	}
	adminDone(w, err)
}

// adminPhone reads and edits a user's phone methods out of band.
func (e *Emulator) adminPhone(w http.ResponseWriter, r *http.Request, tenantID, user string, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		ms, err := e.PhoneMethods(tenantID, user)
		if err != nil {
			adminDone(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ms)
	case len(rest) == 1 && r.Method == http.MethodPut:
		var m PhoneMethod
		if !decodeAdmin(w, r, &m) {
			return
		}
		m.PhoneType = rest[0]
		adminDone(w, e.SetPhoneMethod(tenantID, user, m))
	case len(rest) == 1 && r.Method == http.MethodDelete:
		adminDone(w, e.DeletePhoneMethod(tenantID, user, rest[0]))
	default:
		adminError(w, http.StatusNotFound, "no such admin route: "+r.Method+" "+r.URL.Path)
	}
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 8*maxRequestBody))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return false
	}
	return true
}

// adminDone answers 204, or 404 for unknown tenants/users and 400 otherwise.
func adminDone(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrNotFound):
		adminError(w, http.StatusNotFound, err.Error())
	default:
		adminError(w, http.StatusBadRequest, err.Error())
	}
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
