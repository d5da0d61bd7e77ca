package recorder

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/phoneop/phoneop/internal/conditions"
)

// EventRecorder records events.k8s.io/v1 Events, as controller-runtime's GetEventRecorder does,
// without keeping them. client-go's events broadcaster (behind GetEventRecorder) keeps a copy
// of every Event it sent for 6 to 12 minutes, to turn a repeat into a series; phoneop records
// one Event per Graph write, so during an onboarding it kept about one Event per object (a
// tenth of the manager's heap at N=1,000, docs/benchmarks.md, "Where the manager's memory
// goes"). This recorder keeps:
//   - for series, only a fixed-size record per recent Event (a hash of what makes two Events
//     one series, its name, count and time), at most maxEventSeries of them, each for
//     eventSeriesWindow: a repeat within that window is patched onto the first Event's series,
//     as client-go does; a repeat of an Event the record no longer holds is a new Event;
//   - a queue of at most maxQueuedEvents Events not written yet: an Event that finds it full is
//     dropped and logged (client-go's broadcaster also drops beyond 1,000 queued Events).
//
// Writes retry as client-go's do: a transport error up to maxEventTries times, about
// eventRetrySleep apart; a refusal by the API server is not retried.
type EventRecorder struct {
	// Client writes the Events.
	Client client.Client
	// Scheme resolves the regarding object's kind.
	Scheme *runtime.Scheme
	// Controller is the Events' reportingController; the instance is Controller-<hostname>.
	Controller string

	once     sync.Once
	instance string
	queue    chan eventWrite

	mu     sync.Mutex
	series map[uint64]*eventSeries
	order  []uint64 // series keys, oldest first, for eviction beyond maxEventSeries
}

const (
	// maxNoteLength is the API server's limit on events.k8s.io/v1 notes (NoteLengthLimit).
	maxNoteLength     = 1024
	maxQueuedEvents   = 1000
	maxEventSeries    = 1024
	eventSeriesWindow = 6 * time.Minute // client-go's finishTime
	maxEventTries     = 12
	eventWriters      = 2
)

// eventRetrySleep is how long a writer waits before retrying after a transport error
// (client-go's 10 s); a variable so tests can shorten it.
var eventRetrySleep = 10 * time.Second

// eventSeries is what the recorder remembers of a recent Event.
type eventSeries struct {
	namespace, name string
	count           int32
	last            time.Time
}

// eventWrite is one queued write: a new Event, or a series update of an existing one.
type eventWrite struct {
	event  *eventsv1.Event // a new Event (Create)
	series *seriesUpdate   // or the series of an existing Event (Patch)
}

type seriesUpdate struct {
	namespace, name string
	count           int32
	last            time.Time
	// first recreates the Event if it is gone (expired, deleted), as client-go does.
	first *eventsv1.Event
}

var _ events.EventRecorder = (*EventRecorder)(nil)

func (r *EventRecorder) init() {
	r.once.Do(func() {
		host, _ := os.Hostname()
		r.instance = r.Controller + "-" + host
		r.queue = make(chan eventWrite, maxQueuedEvents)
		r.series = map[uint64]*eventSeries{}
	})
}

// Eventf records an Event about regarding (and related, optionally); note is a format for args.
// It never blocks: the Event is written by the recorder's writers (Start).
func (r *EventRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.init()
	log := ctrl.Log.WithName("events")
	// The API server refuses an Event whose note is over 1 KiB, and the Event would be lost.
	message := conditions.Truncate(fmt.Sprintf(note, args...), maxNoteLength)
	ref, err := reference.GetReference(r.Scheme, regarding)
	if err != nil {
		log.Error(err, "could not reference the object, not recording the event", "reason", reason)
		return
	}
	var relatedRef *corev1.ObjectReference
	if related != nil {
		if relatedRef, err = reference.GetReference(r.Scheme, related); err != nil {
			relatedRef = nil
		}
	}
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		log.Error(nil, "unsupported event type, not recording the event", "type", eventtype, "reason", reason)
		return
	}
	now := time.Now()
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: util.GenerateEventName(ref.Name, now.UnixNano()), Namespace: namespace},
		EventTime:           metav1.MicroTime{Time: now},
		ReportingController: r.Controller,
		ReportingInstance:   r.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             relatedRef,
		Note:                message,
		Type:                eventtype,
	}
	log.V(1).Info(message, "type", eventtype, "object", types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, "kind", ref.Kind, "reason", reason)
	w := r.seriesOf(ev, now)
	select {
	case r.queue <- w:
	default:
		log.Info("event queue full, dropping the event", "reason", reason, "object", types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name})
	}
}

// seriesOf returns the write for ev: a series update when an isomorphic Event (client-go's key:
// type, action, reason, reporter, regarding and related objects, the regarding object's
// resourceVersion included) was recorded within eventSeriesWindow, else a new Event, which it
// remembers.
func (r *EventRecorder) seriesOf(ev *eventsv1.Event, now time.Time) eventWrite {
	key := seriesKey(ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.series[key]; ok && now.Sub(s.last) < eventSeriesWindow {
		s.count++
		s.last = now
		return eventWrite{series: &seriesUpdate{namespace: s.namespace, name: s.name, count: s.count, last: now, first: ev}}
	}
	if _, ok := r.series[key]; !ok {
		r.order = append(r.order, key)
	}
	r.series[key] = &eventSeries{namespace: ev.Namespace, name: ev.Name, count: 1, last: now}
	for len(r.order) > maxEventSeries {
		delete(r.series, r.order[0])
		r.order = r.order[1:]
	}
	if cap(r.order) > 4*maxEventSeries { // the slice's start moves on: copy it back now and then
		r.order = append([]uint64(nil), r.order...)
	}
	return eventWrite{event: ev}
}

func seriesKey(ev *eventsv1.Event) uint64 {
	h := fnv.New64a()
	write := func(s string) { _, _ = h.Write([]byte(s)); _, _ = h.Write([]byte{0}) }
	for _, s := range []string{ev.Type, ev.Action, ev.Reason, ev.ReportingController, ev.ReportingInstance} {
		write(s)
	}
	for _, ref := range []*corev1.ObjectReference{&ev.Regarding, ev.Related} {
		if ref == nil {
			ref = &corev1.ObjectReference{}
		}
		for _, s := range []string{ref.Kind, ref.Namespace, ref.Name, string(ref.UID), ref.APIVersion, ref.ResourceVersion, ref.FieldPath} {
			write(s)
		}
	}
	return h.Sum64()
}

// Start runs the writers until ctx ends, then writes what is still queued for up to 5 s.
func (r *EventRecorder) Start(ctx context.Context) error {
	r.init()
	var wg sync.WaitGroup
	for range eventWriters {
		wg.Go(func() {
			for {
				select {
				case w := <-r.queue:
					r.write(ctx, w)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	drain, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case w := <-r.queue:
			r.write(drain, w)
		default:
			return nil
		}
	}
}

// NeedLeaderElection is false: a standby records nothing, and the leader's Events must be
// written from its first reconcile.
func (r *EventRecorder) NeedLeaderElection() bool { return false }

// write makes one queued write, retrying transport errors.
func (r *EventRecorder) write(ctx context.Context, w eventWrite) {
	for try := 1; ; try++ {
		retry := r.writeOnce(ctx, w)
		if !retry {
			return
		}
		if try >= maxEventTries {
			ctrl.Log.WithName("events").Error(nil, "unable to write event (retry limit exceeded)", "reason", reasonOf(w))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(eventRetrySleep*3/4 + rand.N(eventRetrySleep/2)):
		}
	}
}

func reasonOf(w eventWrite) string {
	if w.event != nil {
		return w.event.Reason
	}
	return w.series.first.Reason
}

// writeOnce makes the write and reports whether to retry it.
func (r *EventRecorder) writeOnce(ctx context.Context, w eventWrite) bool {
	var err error
	if s := w.series; s != nil {
		patch := fmt.Sprintf(`{"series":{"count":%d,"lastObservedTime":%q}}`, s.count, metav1.MicroTime{Time: s.last}.UTC().Format(metav1.RFC3339Micro))
		ev := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: s.name}}
		err = r.Client.Patch(ctx, ev, client.RawPatch(types.MergePatchType, []byte(patch)))
		if !apierrors.IsNotFound(err) {
			return r.retryable(err)
		}
		// The first Event is gone (expired, deleted) or not written yet (the other writer has
		// it): write this one under the first one's name, carrying the series, as client-go does.
		first := s.first.DeepCopy()
		first.Name = s.name
		first.Series = &eventsv1.EventSeries{Count: s.count, LastObservedTime: metav1.MicroTime{Time: s.last}}
		err = r.Client.Create(ctx, first)
		if apierrors.IsAlreadyExists(err) {
			return true // written meanwhile: patch it on the next try (client-go retries too)
		}
		return r.retryable(err)
	}
	err = r.Client.Create(ctx, w.event.DeepCopy())
	if apierrors.IsAlreadyExists(err) {
		return false // a repeat of it got there first and carries its series
	}
	return r.retryable(err)
}

// retryable logs a failed write and reports whether it may succeed later: transport errors
// (and the API server's answers that say so) may; a refusal of the Event itself does not.
func (r *EventRecorder) retryable(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := err.(apierrors.APIStatus); ok && !apierrors.IsServerTimeout(err) && !apierrors.IsTimeout(err) &&
		!apierrors.IsTooManyRequests(err) && !apierrors.IsServiceUnavailable(err) && !apierrors.IsInternalError(err) {
		ctrl.Log.WithName("events").Error(err, "the API server refused the event (not retried)")
		return false
	}
	ctrl.Log.WithName("events").Error(err, "unable to write event (may retry after sleeping)")
	return true
}
