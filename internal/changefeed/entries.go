package changefeed

import (
	"strings"
	"time"

	"github.com/phoneop/phoneop/internal/graph"
)

// seenEntries remembers the audit entries the feed has acted on, by id, for as long as a
// poll can return them again (the overlap): overlapping queries then wake nobody twice.
type seenEntries map[string]time.Time // entry id → activityDateTime

// admit returns the entries not seen before, in order, and remembers them.
func (s seenEntries) admit(entries []graph.AuditEntry) []graph.AuditEntry {
	var fresh []graph.AuditEntry
	for _, e := range entries {
		if _, dup := s[e.ID]; dup || e.ID == "" {
			continue
		}
		s[e.ID] = e.ActivityDateTime
		fresh = append(fresh, e)
	}
	return fresh
}

// forgetBefore drops the entries older than since: no later query asks for them.
func (s seenEntries) forgetBefore(since time.Time) {
	for id, at := range s {
		if at.Before(since) {
			delete(s, id)
		}
	}
}

// changedUser is a user whose phone methods someone other than phoneop changed.
type changedUser struct {
	id, upn string
}

// changedUsers picks from entries the users to re-read, each once: targets of type User
// (the first target of a phone-method entry) of successful changes that phoneop's own app
// (ownAppID, the tenant's client id) did not make. phoneop's own writes are already in its
// observations; re-reading after them would only cost reads. Another phoneop sharing the app
// registration is ignored too: the sweep covers it.
func changedUsers(entries []graph.AuditEntry, ownAppID string) []changedUser {
	var out []changedUser
	seen := map[string]bool{}
	for _, e := range entries {
		if strings.EqualFold(e.Result, "failure") || (ownAppID != "" && strings.EqualFold(e.InitiatedBy.AppID(), ownAppID)) {
			continue
		}
		for _, t := range e.TargetResources {
			if t.ID == "" || (t.Type != "" && !strings.EqualFold(t.Type, "User")) || seen[strings.ToLower(t.ID)] {
				continue
			}
			seen[strings.ToLower(t.ID)] = true
			out = append(out, changedUser{id: t.ID, upn: t.UserPrincipalName})
		}
	}
	return out
}
