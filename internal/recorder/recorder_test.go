package recorder

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// TestEventRecorderSeries: an Event is written once and not kept; a repeat of it (same object
// version, type, reason, action) becomes its series, as with client-go's broadcaster; a
// different reason is an Event of its own; the series record stays bounded.
func TestEventRecorderSeries(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	r := &EventRecorder{Client: c, Scheme: scheme, Controller: "phoneop"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Start(ctx) }()

	pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "kim-mobile", UID: "u1", ResourceVersion: "7"}}
	r.Eventf(pam, nil, corev1.EventTypeNormal, "Created", "createPhoneMethod", "created the %s phone", "mobile")
	r.Eventf(pam, nil, corev1.EventTypeNormal, "Created", "createPhoneMethod", "created the %s phone", "mobile")
	r.Eventf(pam, nil, corev1.EventTypeWarning, "Conflict", "Reconcile", "%s", "owned by another object")
	r.Eventf(pam, nil, "Bogus", "Created", "createPhoneMethod", "not recorded")

	var list eventsv1.EventList
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := c.List(context.Background(), &list, client.InNamespace("team-a")); err != nil {
			t.Fatal(err)
		}
		created := findEvent(list.Items, "Created")
		if len(list.Items) == 2 && created != nil && created.Series != nil && created.Series.Count == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want a Created event with a series of 2 and a Conflict event, got %+v", list.Items)
		}
		time.Sleep(10 * time.Millisecond)
	}
	created := findEvent(list.Items, "Created")
	if created.Note != "created the mobile phone" || created.Regarding.Name != "kim-mobile" || created.Regarding.Kind != "PhoneAuthMethod" ||
		created.ReportingController != "phoneop" || created.Type != corev1.EventTypeNormal || created.Action != "createPhoneMethod" {
		t.Errorf("unexpected event %+v", created)
	}
	if findEvent(list.Items, "Conflict") == nil {
		t.Error("no Conflict event")
	}

	// A series whose first Event is gone is written as a new Event carrying the count.
	if err := c.Delete(context.Background(), created); err != nil {
		t.Fatal(err)
	}
	r.Eventf(pam, nil, corev1.EventTypeNormal, "Created", "createPhoneMethod", "created the %s phone", "mobile")
	deadline = time.Now().Add(5 * time.Second)
	for {
		if err := c.List(context.Background(), &list, client.InNamespace("team-a")); err != nil {
			t.Fatal(err)
		}
		if e := findEvent(list.Items, "Created"); e != nil && e.Series != nil && e.Series.Count == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want the series recreated with count 3, got %+v", list.Items)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The series record is bounded: older Events fall out of it.
	for i := range 2 * maxEventSeries {
		p := pam.DeepCopy()
		p.ResourceVersion = string(rune('a'+i%26)) + time.Duration(i).String()
		r.seriesOf(&eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: p.ResourceVersion}, Regarding: corev1.ObjectReference{ResourceVersion: p.ResourceVersion}}, time.Now())
	}
	r.mu.Lock()
	n, order := len(r.series), len(r.order)
	r.mu.Unlock()
	if n != maxEventSeries || order != maxEventSeries {
		t.Errorf("series record holds %d (order %d), want %d", n, order, maxEventSeries)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func findEvent(items []eventsv1.Event, reason string) *eventsv1.Event {
	for i := range items {
		if items[i].Reason == reason {
			return &items[i]
		}
	}
	return nil
}

// TestALongNoteIsCappedToWhatTheAPIServerAccepts: an Event whose note is over 1 KiB would be
// refused by the API server and lost, so the note is cut, on a rune boundary.
func TestALongNoteIsCappedToWhatTheAPIServerAccepts(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = identityv1alpha1.AddToScheme(scheme)
	r := &EventRecorder{Client: fake.NewClientBuilder().WithScheme(scheme).Build(), Scheme: scheme, Controller: "phoneop"}
	pam := &identityv1alpha1.PhoneAuthMethod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "kim-mobile", UID: "u1"}}
	r.Eventf(pam, nil, corev1.EventTypeWarning, "GraphError", "Reconcile", "%s", strings.Repeat("名", 2000))
	w := <-r.queue
	if n := len(w.event.Note); n > maxNoteLength || !utf8.ValidString(w.event.Note) {
		t.Errorf("note of %d bytes (valid UTF-8: %v), want at most %d", n, utf8.ValidString(w.event.Note), maxNoteLength)
	}
}
