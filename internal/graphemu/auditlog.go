package graphemu

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Entra's audit log as a change feed reads it (graph-phone-methods.md, "The audit log as a
// change feed"; Graph's directoryAudit reference):
//   - GET /auditLogs/directoryAudits needs the application permission AuditLog.Read.All, else
//     403 Authentication_MSGraphPermissionMissing;
//   - every change to a user's phone methods is an entry of category UserManagement, logged by
//     the service "Authentication Methods", naming the user as targetResources[0] and who made
//     the change in initiatedBy (an app for Graph writes, a user for the portal);
//   - entries arrive late: an entry becomes readable Options.AuditLag after it was recorded,
//     while its activityDateTime stays the time of the change;
//   - $filter on activityDateTime (eq, ge, le, gt, lt; an unquoted UTC literal), category,
//     loggedByService and activityDisplayName (eq; startswith on activityDisplayName), joined
//     by "and"; $top 1–999 (default 100); newest first, or $orderby activityDateTime asc;
//     @odata.nextLink with a $skiptoken;
//   - entries are kept for 30 days (the retention of a premium tenant).
//
// Entries never carry a phone number: modifiedProperties is always empty.

// PermAuditLogReadAll lets an app read the audit log.
const PermAuditLogReadAll = "AuditLog.Read.All"

// RouteDirectoryAudits lists the tenant's audit log.
const RouteDirectoryAudits = "/auditLogs/directoryAudits"

// Audit log vocabulary: the service and category of phone-method changes, and the activities
// Entra records for them.
const (
	AuditServiceAuthMethods = "Authentication Methods"
	AuditCategoryUsers      = "UserManagement"

	ActivityAdminRegistered    = "Admin registered security info"
	ActivityAdminUpdated       = "Admin updated security info"
	ActivityAdminDeleted       = "Admin deleted security info"
	ActivityUserRegistered     = "User registered security info"
	ActivityUserUpdated        = "User updated security info"
	ActivityUserDeleted        = "User deleted security info"
	ActivityUserChangedDefault = "User changed default security info"
)

// auditRetention is how long entries are listed (Entra keeps 30 days with a premium licence).
const auditRetention = 30 * 24 * time.Hour

// Admin is the user the out-of-band edits (SetPhoneMethod, DeletePhoneMethod, the admin API)
// are attributed to, as an administrator in the Entra portal.
var Admin = User{ID: "0ad0ad00-0000-4000-8000-00000000ad00", UserPrincipalName: "admin@emulator.invalid"}

// AuditEntry is an audit log entry as a test adds (AddAuditEntry) or reads
// (AuditEntries) it out of band. Exactly one of InitiatedByAppID and
// InitiatedByUserID is set.
type AuditEntry struct {
	ID                  string    `json:"id,omitempty"`                // "" = random
	ActivityDisplayName string    `json:"activityDisplayName"`         // e.g. ActivityUserRegistered
	ActivityDateTime    time.Time `json:"activityDateTime,omitempty"`  // zero = now; may lie in the past (a late entry)
	LoggedByService     string    `json:"loggedByService,omitempty"`   // "" = AuditServiceAuthMethods
	Category            string    `json:"category,omitempty"`          // "" = AuditCategoryUsers
	InitiatedByAppID    string    `json:"initiatedByAppId,omitempty"`  // an app (client id)
	InitiatedByUserID   string    `json:"initiatedByUserId,omitempty"` // or a user
	InitiatedByUPN      string    `json:"initiatedByUpn,omitempty"`    // the user's UPN
	TargetUserID        string    `json:"targetUserId"`                // the user whose methods changed
	TargetUPN           string    `json:"targetUpn,omitempty"`         // and its UPN
	Delivered           time.Time `json:"delivered,omitempty"`         // when it was recorded (read-only)
	ResultReason        string    `json:"resultReason,omitempty"`      // e.g. "Admin changed phone method for user"
}

// auditLog is one tenant's log, oldest recorded first. Guarded by Emulator.mu.
type auditLog struct {
	entries []AuditEntry
}

// auditLogOf returns the tenant's log, creating it. The caller holds e.mu.
func (e *Emulator) auditLogOf(t *tenant) *auditLog {
	if e.audit == nil {
		e.audit = map[string]*auditLog{}
	}
	l, ok := e.audit[lower(t.id)]
	if !ok {
		l = &auditLog{}
		e.audit[lower(t.id)] = l
	}
	return l
}

// record appends an entry, filling its defaults, and drops what retention no longer keeps.
func (l *auditLog) record(a AuditEntry, now time.Time) {
	a.ID = cmp.Or(a.ID, uuid.NewString())
	if a.ActivityDateTime.IsZero() {
		a.ActivityDateTime = now
	}
	a.ActivityDateTime = a.ActivityDateTime.UTC()
	a.LoggedByService = cmp.Or(a.LoggedByService, AuditServiceAuthMethods)
	a.Category = cmp.Or(a.Category, AuditCategoryUsers)
	a.Delivered = now
	i := 0
	for i < len(l.entries) && now.Sub(l.entries[i].ActivityDateTime) > auditRetention {
		i++
	}
	l.entries = append(l.entries[i:], a)
}

// AddAuditEntry adds an entry to a tenant's audit log out of band, e.g. a user registering a
// phone themselves, or an entry that arrives late (ActivityDateTime in the past). It becomes
// readable AuditLag after now.
func (e *Emulator) AddAuditEntry(tenantID string, a AuditEntry) error {
	if a.TargetUserID == "" || a.ActivityDisplayName == "" || (a.InitiatedByAppID == "") == (a.InitiatedByUserID == "") {
		return errorf("an audit entry needs a target user, an activity and one initiator (an app or a user)")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(tenantID)]
	if !ok {
		return notFoundf("unknown tenant %q", tenantID)
	}
	e.auditLogOf(t).record(a, e.now())
	return nil
}

// AuditEntries returns a tenant's whole audit log out of band, delivered or not, oldest
// recorded first.
func (e *Emulator) AuditEntries(tenantID string) []AuditEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l, ok := e.audit[lower(tenantID)]; ok {
		return slices.Clone(l.entries)
	}
	return nil
}

// recordOutOfBand logs an out-of-band edit of u's phones, made by the emulator's Admin. The
// caller holds e.mu.
func (e *Emulator) recordOutOfBand(t *tenant, u *user, activity, reason string) {
	e.auditLogOf(t).record(AuditEntry{ActivityDisplayName: activity, ResultReason: reason,
		InitiatedByUserID: Admin.ID, InitiatedByUPN: Admin.UserPrincipalName,
		TargetUserID: u.ID, TargetUPN: u.UserPrincipalName}, e.now())
}

// graphWriteActivity names the entry of a Graph write that changed a user's phone methods.
func graphWriteActivity(route, method string) (activity, reason string) {
	switch {
	case route == RoutePhoneList:
		return ActivityAdminRegistered, "Admin registered phone method for user"
	case method == http.MethodDelete:
		return ActivityAdminDeleted, "Admin deleted phone method for user"
	default: // PATCH, enableSmsSignIn, disableSmsSignIn
		return ActivityAdminUpdated, "Admin changed phone method for user"
	}
}

// auditQuery is a parsed listing request.
type auditQuery struct {
	match []func(AuditEntry) bool
	top   int
	asc   bool
	after *auditCursor // the last entry of the previous page
}

type auditCursor struct {
	at time.Time
	id string
}

// listAudits answers GET /auditLogs/directoryAudits with the entries delivered lag ago or
// earlier. The caller holds e.mu.
func (e *Emulator) listAudits(r *http.Request, t *tenant, version string, lag time.Duration) answer {
	q, ge := parseAuditQuery(r)
	if ge != nil {
		return failed(ge)
	}
	now := e.now()
	var hits []AuditEntry
	for _, a := range e.auditLogOf(t).entries {
		if now.Before(a.Delivered.Add(lag)) || now.Sub(a.ActivityDateTime) > auditRetention || !q.matches(a) {
			continue
		}
		hits = append(hits, a)
	}
	slices.SortFunc(hits, q.compare)
	if q.after != nil {
		hits = slices.DeleteFunc(hits, func(a AuditEntry) bool {
			return q.compare(a, AuditEntry{ActivityDateTime: q.after.at, ID: q.after.id}) <= 0
		})
	}
	page, more := hits, false
	if len(hits) > q.top {
		page, more = hits[:q.top], true
	}
	items := make([]map[string]any, 0, len(page))
	for _, a := range page {
		items = append(items, renderAudit(a))
	}
	body := map[string]any{"@odata.context": "https://" + graphDefaultHost + "/" + version + "/$metadata#auditLogs/directoryAudits", "value": items}
	if more {
		last := page[len(page)-1]
		body["@odata.nextLink"] = auditNextLink(r, last)
	}
	return answer{status: http.StatusOK, body: body}
}

func (q auditQuery) matches(a AuditEntry) bool {
	for _, m := range q.match {
		if !m(a) {
			return false
		}
	}
	return true
}

// compare orders entries newest first (or oldest first with asc), ties by id, so that a
// cursor names one position even while late entries arrive.
func (q auditQuery) compare(a, b AuditEntry) int {
	c := a.ActivityDateTime.Compare(b.ActivityDateTime)
	if !q.asc {
		c = -c
	}
	return cmp.Or(c, strings.Compare(a.ID, b.ID))
}

// renderAudit is one entry as Graph's directoryAudit resource shows it.
func renderAudit(a AuditEntry) map[string]any {
	initiator := map[string]any{"user": nil, "app": nil}
	if a.InitiatedByAppID != "" {
		initiator["app"] = map[string]any{"appId": a.InitiatedByAppID, "displayName": nil, "servicePrincipalId": nil, "servicePrincipalName": nil}
	} else {
		initiator["user"] = map[string]any{"id": a.InitiatedByUserID, "displayName": nil, "userPrincipalName": a.InitiatedByUPN, "ipAddress": nil}
	}
	return map[string]any{
		"id":                  a.ID,
		"category":            a.Category,
		"correlationId":       uuid.NewSHA1(uuid.NameSpaceOID, []byte(a.ID)).String(),
		"result":              "success",
		"resultReason":        a.ResultReason,
		"activityDisplayName": a.ActivityDisplayName,
		"activityDateTime":    a.ActivityDateTime.Format(time.RFC3339Nano),
		"loggedByService":     a.LoggedByService,
		"operationType":       operationType(a.ActivityDisplayName),
		"initiatedBy":         initiator,
		"targetResources": []map[string]any{{
			"id": a.TargetUserID, "displayName": nil, "type": "User", "userPrincipalName": a.TargetUPN,
			"modifiedProperties": []any{}, "groupType": nil,
		}},
		"additionalDetails": []any{},
	}
}

func operationType(activity string) string {
	switch {
	case strings.Contains(activity, "registered"):
		return "Add"
	case strings.Contains(activity, "deleted"):
		return "Delete"
	}
	return "Update"
}

// auditNextLink is the request's URL with a $skiptoken naming the page's last entry.
func auditNextLink(r *http.Request, last AuditEntry) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	token := strconv.FormatInt(last.ActivityDateTime.UnixNano(), 10) + "|" + last.ID
	v := r.URL.Query()
	v.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(token)))
	return scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + v.Encode()
}

// parseAuditQuery reads $filter, $top, $orderby and $skiptoken; $select is accepted and
// ignored; other options are refused.
func parseAuditQuery(r *http.Request) (auditQuery, *graphError) {
	q := auditQuery{top: defaultPageSize}
	vals := r.URL.Query()
	for k := range vals {
		switch k {
		case "$filter", "$top", "$orderby", "$skiptoken", "$select":
		default:
			return q, gerr(http.StatusBadRequest, "BadRequest", "Query option '"+k+"' is not supported on this resource.")
		}
	}
	top, ge := parseTop(vals, "BadRequest")
	if ge != nil {
		return q, ge
	}
	q.top = top
	switch o := strings.ToLower(strings.Join(strings.Fields(vals.Get("$orderby")), " ")); o {
	case "", "activitydatetime desc":
	case "activitydatetime", "activitydatetime asc":
		q.asc = true
	default:
		return q, gerr(http.StatusBadRequest, "BadRequest", "Ordering by '"+vals.Get("$orderby")+"' is not supported.")
	}
	if v := vals.Get("$skiptoken"); v != "" {
		c, ok := parseAuditCursor(v)
		if !ok {
			return q, gerr(http.StatusBadRequest, "BadRequest", "The skip token is invalid.")
		}
		q.after = &c
	}
	if f := vals.Get("$filter"); f != "" {
		m, ge := parseAuditFilter(f)
		if ge != nil {
			return q, ge
		}
		q.match = m
	}
	return q, nil
}

func parseAuditCursor(token string) (auditCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return auditCursor{}, false
	}
	ns, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return auditCursor{}, false
	}
	return auditCursor{at: time.Unix(0, n).UTC(), id: id}, true
}

var (
	andSplit        = regexp.MustCompile(`(?i)\s+and\s+`)
	auditTimeClause = regexp.MustCompile(`(?i)^activityDateTime\s+(eq|ge|gt|le|lt)\s+'?([0-9T:.\-+Z]+)'?$`)
	auditEqClause   = regexp.MustCompile(`(?i)^(category|loggedByService|activityDisplayName)\s+eq\s+'((?:[^']|'')*)'$`)
	auditStartsWith = regexp.MustCompile(`(?i)^startswith\(\s*activityDisplayName\s*,\s*'((?:[^']|'')*)'\s*\)$`)
)

// parseAuditFilter understands the clauses Graph documents as filterable on directoryAudit
// that a change feed uses. String comparisons ignore case, as Graph's do.
func parseAuditFilter(f string) ([]func(AuditEntry) bool, *graphError) {
	var out []func(AuditEntry) bool
	for _, clause := range andSplit.Split(strings.TrimSpace(f), -1) {
		m, ok := auditClause(strings.TrimSpace(clause))
		if !ok {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid filter clause: the emulator understands activityDateTime comparisons, category, loggedByService and activityDisplayName eq, and startswith(activityDisplayName, …), joined by and.")
		}
		out = append(out, m)
	}
	return out, nil
}

func auditClause(c string) (func(AuditEntry) bool, bool) {
	if m := auditTimeClause.FindStringSubmatch(c); m != nil {
		at, err := time.Parse(time.RFC3339Nano, m[2])
		if err != nil {
			return nil, false
		}
		op := strings.ToLower(m[1])
		return func(a AuditEntry) bool { return compareTime(a.ActivityDateTime, op, at) }, true
	}
	if m := auditEqClause.FindStringSubmatch(c); m != nil {
		field, v := strings.ToLower(m[1]), strings.ReplaceAll(m[2], "''", "'")
		return func(a AuditEntry) bool { return strings.EqualFold(auditField(a, field), v) }, true
	}
	if m := auditStartsWith.FindStringSubmatch(c); m != nil {
		v := lower(strings.ReplaceAll(m[1], "''", "'"))
		return func(a AuditEntry) bool { return strings.HasPrefix(lower(a.ActivityDisplayName), v) }, true
	}
	return nil, false
}

func auditField(a AuditEntry, field string) string {
	switch field {
	case "category":
		return a.Category
	case "loggedbyservice":
		return a.LoggedByService
	}
	return a.ActivityDisplayName
}

func compareTime(t time.Time, op string, at time.Time) bool {
	switch op {
	case "eq":
		return t.Equal(at)
	case "ge":
		return !t.Before(at)
	case "gt":
		return t.After(at)
	case "le":
		return !t.After(at)
	}
	return t.Before(at) // lt
}

// errAuditForbidden is Graph's answer to an app without AuditLog.Read.All.
func errAuditForbidden() *graphError {
	return gerr(http.StatusForbidden, "Authentication_MSGraphPermissionMissing",
		"Calling principal does not have required MSGraph permissions AuditLog.Read.All")
}
