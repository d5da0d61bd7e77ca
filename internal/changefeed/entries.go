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

// changedUser is a user whose phone methods someone other than this manager changed.
type changedUser struct {
	id, upn string
}

// triage sorts entries into the users to re-read, each once, and the entries that suspect
// phoneop's credential:
//   - a successful change to a user's phone methods (the target of type User) wakes that
//     user, unless it is phoneop's own write: initiated by phoneop's app (ownAppID, the
//     tenant's client id) and attributed to a write this manager recorded (writes, see
//     attributed). phoneop's own writes are already in its observations; re-reading after
//     them would only cost reads;
//   - an entry initiated by phoneop's app that no recorded write accounts for is someone
//     holding phoneop's credential (or another process sharing its app registration, or a
//     write made before this process started): it wakes its user like any out-of-band change,
//     and is returned in suspect, failed attempts included.
func triage(tenantID, ownAppID string, entries []graph.AuditEntry, writes []recordedWrite) (users []changedUser, suspect []graph.AuditEntry) {
	seen := map[string]bool{}
	byUser := writesByUser(writes)
	for _, e := range entries {
		if ownAppID != "" && strings.EqualFold(e.InitiatedBy.AppID(), ownAppID) {
			if attributed(tenantID, e, byUser[entryUser(e)]) {
				continue
			}
			suspect = append(suspect, e)
		}
		if strings.EqualFold(e.Result, "failure") {
			continue
		}
		for _, t := range e.TargetResources {
			if t.ID == "" || (t.Type != "" && !strings.EqualFold(t.Type, "User")) || seen[strings.ToLower(t.ID)] {
				continue
			}
			seen[strings.ToLower(t.ID)] = true
			users = append(users, changedUser{id: t.ID, upn: t.UserPrincipalName})
		}
	}
	return users, suspect
}

// writesByUser groups writes by their (lower-case) user id.
func writesByUser(writes []recordedWrite) map[string][]recordedWrite {
	out := map[string][]recordedWrite{}
	for _, w := range writes {
		out[w.userID] = append(out[w.userID], w)
	}
	return out
}
