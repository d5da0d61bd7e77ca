package graph

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Reading Entra's audit log (GET /auditLogs/directoryAudits, application
// permission AuditLog.Read.All): the change feed's source. Entries are trimmed
// to what a reader needs to tell who changed whose methods; modifiedProperties
// and additionalDetails are never decoded, so no phone number (masked or not)
// passes through the client.

// ServiceAuthenticationMethods is the loggedByService of changes to users'
// authentication methods, phone methods among them.
const ServiceAuthenticationMethods = "Authentication Methods"

// AuditEntry is one directoryAudit entry.
type AuditEntry struct {
	// ID is unique per entry: a reader that overlaps its queries de-duplicates by it.
	ID                  string         `json:"id"`
	Category            string         `json:"category"`
	ActivityDisplayName string         `json:"activityDisplayName"`
	ActivityDateTime    time.Time      `json:"activityDateTime"`
	LoggedByService     string         `json:"loggedByService"`
	Result              string         `json:"result"`
	InitiatedBy         AuditInitiator `json:"initiatedBy"`
	TargetResources     []AuditTarget  `json:"targetResources"`
}

// AuditInitiator says who made the change: a user, or an app (by its client id).
type AuditInitiator struct {
	User *struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
	} `json:"user"`
	App *struct {
		AppID string `json:"appId"`
	} `json:"app"`
}

// AppID is the client id of the app that made the change, or "" when a user did.
func (i AuditInitiator) AppID() string {
	if i.App == nil {
		return ""
	}
	return i.App.AppID
}

// AuditTarget is one object the entry's activity changed; for phone methods the
// first target is the user.
type AuditTarget struct {
	ID                string `json:"id"`
	Type              string `json:"type"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	// Since keeps entries whose activityDateTime is at or after it (required).
	Since time.Time
	// Service keeps entries of one loggedByService; "" keeps every service.
	Service string
	// PageSize is $top; 0 means 999.
	PageSize int
}

// AuditLogReader reads the tenant's audit log.
type AuditLogReader interface {
	// ListDirectoryAudits calls page with each page of entries matching q until
	// the listing ends, page returns an error, or ctx ends. It never writes.
	ListDirectoryAudits(ctx context.Context, q AuditQuery, page func([]AuditEntry) error) error
}

var _ AuditLogReader = (*Client)(nil)

// ListDirectoryAudits implements AuditLogReader. Each page is one GET through
// the tenant's throttle, like every other read.
func (c *Client) ListDirectoryAudits(ctx context.Context, q AuditQuery, page func([]AuditEntry) error) error {
	const op = "listDirectoryAudits"
	if q.Since.IsZero() {
		return &Error{Op: op, Class: Terminal, Code: "invalidArgument"}
	}
	v := url.Values{}
	v.Set("$filter", auditFilter(q))
	v.Set("$top", strconv.Itoa(pageSize(q.PageSize)))
	return listPages(ctx, c, op, "/auditLogs/directoryAudits?"+encodeQuery(v), page)
}

// auditFilter is the OData $filter of q: activityDateTime compared with an
// unquoted DateTimeOffset literal in UTC, loggedByService with a quoted string
// (a quote inside doubled), joined by "and" — the syntax of Graph's
// directoryAudit reference ("activityDateTime ge 2018-01-09T00:00:00Z").
func auditFilter(q AuditQuery) string {
	f := "activityDateTime ge " + q.Since.UTC().Format("2006-01-02T15:04:05Z")
	if q.Service != "" {
		f += " and loggedByService eq '" + strings.ReplaceAll(q.Service, "'", "''") + "'"
	}
	return f
}
