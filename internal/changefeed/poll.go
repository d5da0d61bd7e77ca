package changefeed

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/fieldindex"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/schedule"
	"github.com/phoneop/phoneop/internal/tenantconn"
	"github.com/phoneop/phoneop/internal/userindex"
)

// errFeedOverflow ends a poll that met more entries than maxFeedPages: the rest is a gap.
var errFeedOverflow = errors.New("more audit entries than one poll reads")

// errNoAuditLog: the tenant's client cannot read the audit log (a test double).
var errNoAuditLog = errors.New("the tenant's Graph client cannot read the audit log")

// poll reads the tenant's audit log from the watermark minus the overlap, wakes the users
// changed outside phoneop, then records the outcome, decides the feed's health and writes the
// status.
func (f *Feeds) poll(ctx context.Context, t *identityv1alpha1.EntraTenant, feed *tenantFeed) {
	start := f.now()
	f.mu.Lock()
	since, gap := pollWindow(feed.watermark, start)
	f.mu.Unlock()
	var err error
	if !gap {
		err = f.read(ctx, t, feed, since)
	}
	if gap || errors.Is(err, errFeedOverflow) {
		f.restartAfterGap(feed, start)
		err = nil
	}
	if ctx.Err() != nil {
		f.finishCancelled(feed)
		return
	}
	if f.record(ctx, t, feed, start, err) {
		f.fallBack(ctx, t.Name)
	}
	f.persistStatus(ctx, t, feed)
}

// read lists the entries since since and wakes their users page by page, so that an entry
// is marked seen only once its users are woken: a poll that fails half-way loses nothing.
// Each request waits for the reports limits (limits.go).
func (f *Feeds) read(ctx context.Context, t *identityv1alpha1.EntraTenant, feed *tenantFeed, since time.Time) error {
	// A poll can wait: if Graph must throttle, it should throttle the feed before the writes
	// and reads a spec change makes (x-ms-throttle-priority, docs/operations.md).
	ctx = graph.WithPriority(ctx, graph.PriorityLow)
	conn, err := f.Connector.Connect(ctx, t)
	if err != nil {
		return err
	}
	reader, ok := conn.Client.(graph.AuditLogReader)
	if !ok {
		return errNoAuditLog
	}
	ownApp := t.Spec.Credentials.ClientID() // the app phoneop authenticates as
	gate := f.limiter().gate(conn.TenantID, ownApp)
	if err := gate.next(ctx); err != nil {
		return err
	}
	pages := 0
	err = reader.ListDirectoryAudits(ctx, graph.AuditQuery{Since: since, Service: graph.ServiceAuthenticationMethods},
		func(entries []graph.AuditEntry) error {
			gate.sent()
			if pages++; pages > maxFeedPages {
				return errFeedOverflow
			}
			if err := f.handle(ctx, t, conn.TenantID, ownApp, feed, entries); err != nil {
				return err
			}
			return gate.next(ctx) // for the next page, if there is one
		})
	gate.done(err != nil)
	return err
}

// handle acts on one page of entries: the new ones wake their users, and those that suspect
// phoneop's credential are reported.
func (f *Feeds) handle(ctx context.Context, t *identityv1alpha1.EntraTenant, tenantID, ownApp string, feed *tenantFeed, entries []graph.AuditEntry) error {
	fresh := feed.seen.admit(entries)
	users, suspect := triage(tenantID, ownApp, fresh, f.Writes.ofTenant(tenantID))
	f.reportSuspects(ctx, t, suspect)
	woken, err := f.wakeUsers(ctx, t.Name, tenantID, users)
	f.mu.Lock()
	feed.entries += uint64(len(fresh))
	feed.woken += uint64(woken)
	feed.unattributed += uint64(len(suspect))
	f.mu.Unlock()
	return err
}

// reportSuspects records a Warning Event on the EntraTenant for each entry made with phoneop's
// app id that no write of this manager accounts for (the metric counts them in handle).
func (f *Feeds) reportSuspects(ctx context.Context, t *identityv1alpha1.EntraTenant, suspect []graph.AuditEntry) {
	for _, e := range suspect {
		user := entryUser(e)
		ctrl.LoggerFrom(ctx).Info("audit entry made with phoneop's app id but not by this manager", "tenant", t.Name,
			"user", user, "activity", e.ActivityDisplayName, "at", e.ActivityDateTime, "entry", e.ID)
		if f.Recorder == nil {
			continue
		}
		f.Recorder.Eventf(t, nil, corev1.EventTypeWarning, identityv1alpha1.ReasonSuspectedCredentialUse, "DetectChange",
			"The audit log shows %q on user %s at %s made with phoneop's app id, but phoneop made no such change: if the manager did not restart just before, treat phoneop's credential as compromised and rotate it (docs/security.md)",
			e.ActivityDisplayName, user, e.ActivityDateTime.UTC().Format(time.RFC3339))
	}
}

// restartAfterGap starts the feed again from now after entries may have been lost: until one
// --resync-period has passed, every object re-reads Graph on its normal schedule (so each is
// read once after the gap), and only then the feed is trusted again.
func (f *Feeds) restartAfterGap(feed *tenantFeed, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	feed.watermark = now
	feed.facts.gapUntil = now.Add(f.ResyncPeriod)
	feed.seen = seenEntries{}
}

// record notes the poll's outcome, schedules the next one and re-decides the health. It
// reports whether the feed just stopped being healthy, so that the caller sends the tenant's
// objects back to --resync-period.
func (f *Feeds) record(ctx context.Context, t *identityv1alpha1.EntraTenant, feed *tenantFeed, start time.Time, err error) (fellBack bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	feed.polling = false
	feed.nextPoll = start.Add(feed.facts.interval)
	if err == nil {
		feed.watermark = start
		feed.facts.trusted, feed.facts.failing, feed.facts.okSince = true, false, now
		feed.seen.forgetBefore(start.Add(-feedOverlap))
	} else {
		feed.facts.failing, feed.facts.failClass = true, feedErrorClass(err)
		if wait := graph.RetryAfterOf(err); wait > 0 && now.Add(wait).After(feed.nextPoll) {
			feed.nextPoll = now.Add(wait)
		}
	}
	feed.facts.now = now
	before := feed.health
	feed.health = decideHealth(feed.facts)
	if before.reason != feed.health.reason {
		// The Graph error's text holds status, code and request ids, never a body.
		ctrl.LoggerFrom(ctx).Info("change feed", "tenant", t.Name, "status", feed.health.status, "reason", feed.health.reason, "error", errText(err))
	}
	return before.healthy() && !feed.health.healthy()
}

// finishCancelled ends a poll cut short by the manager stopping.
func (f *Feeds) finishCancelled(feed *tenantFeed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	feed.polling = false
}

// feedErrorClass classes a poll failure; credentials that cannot be loaded count as no token.
func feedErrorClass(err error) graph.Class {
	var credErr *tenantconn.ErrCredentials
	if errors.As(err, &credErr) {
		return graph.Unauthorized
	}
	return graph.ClassOf(err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// wakeUsers re-reads the managed objects of each user now, dropping the user's cached list
// first, and returns how many users had objects.
func (f *Feeds) wakeUsers(ctx context.Context, tenant, tenantID string, users []changedUser) (int, error) {
	woken := 0
	for _, u := range users {
		objs, err := f.objectsOfUser(ctx, tenant, u)
		if err != nil {
			return woken, err
		}
		if len(objs) == 0 {
			continue // not managed here: someone else's user
		}
		woken++
		f.Observer.Invalidate(tenantID, u.id)
		for i := range objs {
			if id := objs[i].Status.UserID; id != "" && id != u.id {
				f.Observer.Invalidate(tenantID, id) // the same user, as the reconciler spells it
			}
			if err := f.wake(ctx, wakeEvent{key: client.ObjectKeyFromObject(&objs[i])}); err != nil {
				return woken, err
			}
		}
	}
	return woken, nil
}

// objectsOfUser finds the tenant's objects of a user by object id or UPN through the user
// index, each once.
func (f *Feeds) objectsOfUser(ctx context.Context, tenant string, u changedUser) ([]identityv1alpha1.PhoneAuthMethod, error) {
	var refs []userindex.Ref
	for _, name := range []string{u.id, u.upn} {
		if name != "" {
			refs = append(refs, userindex.NewRef(tenant, name))
		}
	}
	return f.UserIndex.Objects(ctx, f.Client, refs)
}

// fallBack sends the tenant's objects back to --resync-period after its feed failed: each
// comes due at its user's slot of the normal schedule (schedule.After), not at once, so the
// switch costs no burst of reads; an object already due sooner keeps its earlier time.
func (f *Feeds) fallBack(ctx context.Context, tenant string) {
	var list identityv1alpha1.PhoneAuthMethodList
	// Read only: the cache's objects, not a copy of the whole tenant.
	if err := f.Client.List(ctx, &list, client.MatchingFields{fieldindex.Tenant: tenant}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the tenant's PhoneAuthMethods to fall back to the resync period", "tenant", tenant)
		return
	}
	now := f.now()
	for i := range list.Items {
		p := &list.Items[i]
		user := p.Status.UserID
		if user == "" {
			user = p.Spec.User
		}
		after := schedule.After(schedule.Key(tenant, user), f.ResyncPeriod, now)
		if err := f.wake(ctx, wakeEvent{key: client.ObjectKeyFromObject(p), after: after}); err != nil {
			return
		}
	}
}
