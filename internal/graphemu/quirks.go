package graphemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// NumberFormat selects how numbers written through Graph are stored, and
// so read back (Faults.NumberFormat). Graph's docs promise the form sent;
// in production the stored form may differ, and callers compare numbers
// only after normalising them (graph-phone-methods.md, "Observed in
// production").
type NumberFormat string

const (
	// NumberFormatDocumented stores the documented "+{cc} {number}" form
	// (a number sent without the space is split after its country code).
	NumberFormatDocumented NumberFormat = ""
	// NumberFormatNoSpace stores E.164 without the space: "+491701234567".
	NumberFormatNoSpace NumberFormat = "nospace"
	// NumberFormatTrunk toggles the national trunk prefix 0 after the
	// country code, for countries that dial one: "+49 1701234567" is
	// stored as "+49 01701234567" and "+44 07700900123" as
	// "+44 7700900123". Other countries keep the documented form. Not in
	// the contract's sources: a guess at a plausible reformatting.
	NumberFormatTrunk NumberFormat = "trunk"
	// NumberFormatSpaced stores the national part grouped with spaces and
	// a dash: "+49 170 123-4567".
	NumberFormatSpaced NumberFormat = "spaced"
)

// numberFormats lists the modes ParseNumberFormat accepts.
var numberFormats = []NumberFormat{NumberFormatDocumented, NumberFormatNoSpace, NumberFormatTrunk, NumberFormatSpaced}

// ParseNumberFormat checks a NumberFormat given as text (a flag, the
// faults admin API). An unknown value set directly in Faults behaves
// like NumberFormatDocumented.
func ParseNumberFormat(s string) (NumberFormat, error) {
	for _, f := range numberFormats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown number format %q (want nospace, trunk, spaced or empty)", s)
}

// quirkDraw is what the quirk generator decided for one dispatched Graph
// call. It always draws the same three values, so which calls meet a
// quirk depends only on the seed and the order of calls, and the classic
// faults (drawn from their own generator) are unchanged by quirks.
type quirkDraw struct {
	notUnique, unknownError float64
	shuffle                 uint64
}

func (e *Emulator) drawQuirks() quirkDraw {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	return quirkDraw{notUnique: e.quirkRng.Float64(), unknownError: e.quirkRng.Float64(), shuffle: e.quirkRng.Uint64()}
}

// lagSnapshot is a user's phone methods as they were just before the
// latest Graph write that changed them (Faults.ReadLag).
type lagSnapshot struct {
	methods map[string]*method
	at      time.Time
}

// copyMethods snapshots a user's methods.
func copyMethods(ms map[string]*method) map[string]*method {
	out := make(map[string]*method, len(ms))
	for k, m := range ms {
		c := *m
		out[k] = &c
	}
	return out
}

func sameMethods(a, b map[string]*method) bool {
	if len(a) != len(b) {
		return false
	}
	for k, m := range a {
		if o, ok := b[k]; !ok || *o != *m {
			return false
		}
	}
	return true
}

// readable is the state Graph reads of u see: the snapshot from before
// the latest write while lag has not passed since it, else the current
// state. Writes always act on the current state.
func (u *user) readable(lag time.Duration, now time.Time) map[string]*method {
	if l := u.lag; l != nil && lag > 0 && now.Sub(l.at) < lag {
		return l.methods
	}
	return u.methods
}

// userIn reports whether list names u by object id or UPN.
func userIn(list []string, u *user) bool {
	for _, k := range list {
		if strings.EqualFold(k, u.ID) || strings.EqualFold(k, u.UserPrincipalName) {
			return true
		}
	}
	return false
}

// errUnknownBackend is the envelope Graph answered when its phone-method
// backend failed in a way Graph did not translate: code UnknownError and
// the backend's own JSON, with its internal URL, as the message
// (msgraph-sdk-powershell #445, microsoft-graph-docs #11356). The status
// is not in those sources; 404 goes with the ASP.NET Web API text.
func errUnknownBackend(tenantID string, gr graphRoute) *graphError {
	who := strings.ReplaceAll(gr.userKey, "@", "%40")
	if !strings.Contains(gr.userKey, "@") {
		who += "%40" + tenantID
	}
	target := "https://mface.windowsazure.com/odata/users('" + who + "')/authentication/phoneMethods"
	if gr.methodID != "" {
		target += "('" + gr.methodID + "')"
	}
	msg, _ := json.Marshal(struct {
		Message       string
		MessageDetail string
	}{"No HTTP resource was found that matches the request URI '" + target + "'.",
		"No type was found that matches the controller named 'users'."})
	return gerr(http.StatusNotFound, "UnknownError", string(msg))
}

// errNotUniqueUnsaved is the 409 whose write was not saved: the number's
// holder is invisible (e.g. a soft-deleted user), so nothing in the
// tenant explains the clash.
func errNotUniqueUnsaved() *graphError {
	return gerr(http.StatusConflict, "phoneNumberNotUnique", "The phone number is already in use.")
}

// errExtensionNotAllowed: Entra allows extensions on office phones only.
// The contract gives no code or message for it; badRequest is the code
// the emulator uses for every invalid number.
func errExtensionNotAllowed(typ string) *graphError {
	return gerr(http.StatusBadRequest, "badRequest",
		"Invalid phone number: extensions are only supported for office phones, not '"+typ+"'.")
}
