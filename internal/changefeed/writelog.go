package changefeed

import (
	"context"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// The manager's own writes, so that the feed can tell them from a stolen copy of its
// credential. An audit entry initiated by phoneop's app id is what phoneop's own write
// produces, and also what anyone holding phoneop's credential produces: the feed ignores such an
// entry only when it matches a write this manager recorded (same tenant and user, same kind of
// change, same phone type when the entry names one, at about the same time), and reports every
// other one (docs/security.md, "Change feed").

const (
	// attributionSlack is how far an entry's activityDateTime may lie from the recorded write
	// for the entry to be that write's. activityDateTime is when Graph applied the change,
	// not when the entry was delivered, so the audit log's delivery delay (2 minutes at the
	// 95th percentile, 5 at the 99th) plays no part here; what does is the time between
	// recording the write and Graph applying it (the graph client's retries and pauses, under
	// a minute with the default limits) and the skew between the manager's clock and Entra's
	// (seconds with NTP). Two minutes covers both with room; a wider slack would hide more
	// of an attacker's changes behind phoneop's own.
	attributionSlack = 2 * time.Minute
	// writeRetention is how long a write stays recorded: until the feed can no longer read
	// its entry. The delivery delay decides it: the feed reads entries whose activityDateTime
	// lies at most feedOverlap (twice the 99th-percentile delay) before its watermark, and
	// the watermark trails now by at most one poll interval (10 minutes at most) while the
	// feed is healthy. An entry the feed reads after its write was forgotten is reported
	// (a false alarm, never a missed one).
	writeRetention = feedOverlap + 10*time.Minute + attributionSlack
	// maxRecordedWrites bounds the log's memory (about 100 bytes a write): a sustained 20
	// writes per second (Graph's per-app write limit) for the retention. Beyond it the oldest
	// writes are forgotten, and their entries reported.
	maxRecordedWrites = 30_000
)

// writeKind is the kind of change an audit entry or a write is: what the two must agree on.
type writeKind int

const (
	kindUnknown  writeKind = iota // an activity phoneop never causes (e.g. a user's own change of default)
	kindRegister                  // a phone method created
	kindUpdate                    // a number or SMS sign-in changed
	kindDelete                    // a phone method deleted
)

// recordedWrite is one Graph write this manager made.
type recordedWrite struct {
	tenantID  string // lower-case
	userID    string // lower-case object id
	phoneType string // "mobile", "alternateMobile", "office"; "" if unknown
	kind      writeKind
	at        time.Time
}

// attributed reports whether entry is one of writes: phoneop's own change, not someone else's
// use of its credential. tenantID is the entry's tenant. The entry must name the same user and
// the same kind of change, and lie within attributionSlack of the write; the phone type must
// agree when the entry names one (Graph's entries name it only in modifiedProperties, which
// phoneop never decodes because it holds the number, so today any phone type of the user
// matches).
func attributed(tenantID string, entry graph.AuditEntry, writes []recordedWrite) bool {
	user := entryUser(entry)
	kind := kindOfActivity(entry.ActivityDisplayName)
	if user == "" || kind == kindUnknown {
		return false
	}
	phoneType := entryPhoneType(entry)
	tenantID = strings.ToLower(tenantID)
	for _, w := range writes {
		if w.tenantID != tenantID || w.userID != user || w.kind != kind {
			continue
		}
		if phoneType != "" && w.phoneType != "" && !strings.EqualFold(phoneType, w.phoneType) {
			continue
		}
		if d := entry.ActivityDateTime.Sub(w.at); d >= -attributionSlack && d <= attributionSlack {
			return true
		}
	}
	return false
}

// entryUser is the lower-case object id of the user an entry's change targets ("" if none).
func entryUser(e graph.AuditEntry) string {
	for _, t := range e.TargetResources {
		if t.ID != "" && (t.Type == "" || strings.EqualFold(t.Type, "User")) {
			return strings.ToLower(t.ID)
		}
	}
	return ""
}

// entryPhoneType is the phone type an entry names, or "" (see attributed).
func entryPhoneType(graph.AuditEntry) string { return "" }

// kindOfActivity classes an audit activity ("Admin registered security info", …).
func kindOfActivity(activity string) writeKind {
	a := strings.ToLower(activity)
	switch {
	case strings.Contains(a, "default"):
		return kindUnknown // "User changed default security info": phoneop cannot set the default
	case strings.Contains(a, "registered"):
		return kindRegister
	case strings.Contains(a, "deleted"):
		return kindDelete
	case strings.Contains(a, "updated"), strings.Contains(a, "changed"):
		return kindUpdate
	}
	return kindUnknown
}

// phoneTypeOfMethod is the phone type of a Graph method id ("" for an unknown id).
func phoneTypeOfMethod(methodID string) string {
	for _, t := range []string{"mobile", "alternateMobile", "office"} {
		if strings.EqualFold(methodid.ForPhoneType(t), methodID) {
			return t
		}
	}
	return ""
}

// WriteLog records the Graph writes this manager makes, for the change feed to attribute
// phoneop's own audit entries. It is bounded (maxRecordedWrites, writeRetention) and lives in
// memory only: a write made by the process before a restart is unknown to the next one, whose
// feed then reports its entry (docs/security.md says why a false alarm is the choice). Safe
// for concurrent use; the zero value is ready.
type WriteLog struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	writes []recordedWrite // oldest first
}

// record notes one write, and forgets those beyond the retention or the bound.
func (l *WriteLog) record(tenantID, userID, phoneType string, kind writeKind) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, recordedWrite{tenantID: strings.ToLower(tenantID), userID: strings.ToLower(userID),
		phoneType: phoneType, kind: kind, at: now})
	drop := 0
	for drop < len(l.writes) && (len(l.writes)-drop > maxRecordedWrites || now.Sub(l.writes[drop].at) > writeRetention) {
		drop++
	}
	if drop > 0 {
		l.writes = append(l.writes[:0], l.writes[drop:]...)
	}
}

// ofTenant returns the recorded writes of a tenant.
func (l *WriteLog) ofTenant(tenantID string) []recordedWrite {
	if l == nil {
		return nil
	}
	tenantID = strings.ToLower(tenantID)
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []recordedWrite
	for _, w := range l.writes {
		if w.tenantID == tenantID {
			out = append(out, w)
		}
	}
	return out
}

// Len is how many writes are recorded.
func (l *WriteLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.writes)
}

func (l *WriteLog) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Recording returns api with every write recorded in l before it is sent: a write whose answer
// is lost may still have been applied, and its entry must not be reported. Reads pass through.
func (l *WriteLog) Recording(tenantID string, api graph.API) graph.API {
	return &recordingAPI{API: api, log: l, tenantID: tenantID}
}

// recordingAPI is graph.API with its writes recorded. Other interfaces of the wrapped client
// (the audit log reader, the role reader) are not promoted: callers that need them take them
// from the connection itself.
type recordingAPI struct {
	graph.API
	log      *WriteLog
	tenantID string
}

func (r *recordingAPI) CreatePhoneMethod(ctx context.Context, userID, phoneType, number string) (graph.PhoneMethod, error) {
	r.log.record(r.tenantID, userID, phoneType, kindRegister)
	return r.API.CreatePhoneMethod(ctx, userID, phoneType, number)
}

func (r *recordingAPI) UpdatePhoneNumber(ctx context.Context, userID, methodID, phoneType, number string) error {
	r.log.record(r.tenantID, userID, phoneType, kindUpdate)
	return r.API.UpdatePhoneNumber(ctx, userID, methodID, phoneType, number)
}

func (r *recordingAPI) DeletePhoneMethod(ctx context.Context, userID, methodID string) error {
	r.log.record(r.tenantID, userID, phoneTypeOfMethod(methodID), kindDelete)
	return r.API.DeletePhoneMethod(ctx, userID, methodID)
}

func (r *recordingAPI) EnableSMSSignIn(ctx context.Context, userID, methodID string) error {
	r.log.record(r.tenantID, userID, phoneTypeOfMethod(methodID), kindUpdate)
	return r.API.EnableSMSSignIn(ctx, userID, methodID)
}

func (r *recordingAPI) DisableSMSSignIn(ctx context.Context, userID, methodID string) error {
	r.log.record(r.tenantID, userID, phoneTypeOfMethod(methodID), kindUpdate)
	return r.API.DisableSMSSignIn(ctx, userID, methodID)
}

// TenantConnector is the PhoneAuthMethod reconciler's view of tenantconn.Connector.
type TenantConnector interface {
	Connect(ctx context.Context, t *identityv1alpha1.EntraTenant) (*tenantconn.Connection, error)
	Forget(uid types.UID)
}

// RecordingConnector hands out the connections of Connector with their writes recorded in
// Writes: every Graph write the reconciler makes goes through it.
type RecordingConnector struct {
	TenantConnector
	Writes *WriteLog
}

// Connect implements TenantConnector: the connection, its client wrapped (a copy: the
// underlying connector's cached connection stays as it is).
func (c *RecordingConnector) Connect(ctx context.Context, t *identityv1alpha1.EntraTenant) (*tenantconn.Connection, error) {
	conn, err := c.TenantConnector.Connect(ctx, t)
	if err != nil || conn == nil {
		return conn, err
	}
	wrapped := *conn
	wrapped.Client = c.Writes.Recording(conn.TenantID, conn.Client)
	return &wrapped, nil
}
