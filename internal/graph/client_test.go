package graph_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestEveryCall walks one user through every call the client has, the way
// the reconciler would, and checks what Graph saw.
func TestEveryCall(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, tenantA)
	ctx := testContext(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(id string) graph.PhoneMethod {
		t.Helper()
		m, err := c.GetPhoneMethod(ctx, kimID, id)
		must(err)
		return m
	}

	u, err := c.GetUser(ctx, kimUPN)
	must(err)
	if diff := cmp.Diff(graph.User{ID: kimID, UserPrincipalName: kimUPN, UserType: "Member"}, u); diff != "" {
		t.Fatalf("GetUser -want +got:\n%s", diff)
	}
	ms, err := c.ListPhoneMethods(ctx, u.ID)
	must(err)
	if len(ms) != 0 {
		t.Fatalf("new user has %d methods, want none", len(ms))
	}

	created, err := c.CreatePhoneMethod(ctx, u.ID, graph.PhoneTypeMobile, numberKim)
	must(err)
	// Tenant A's policy includes everyone, so Graph registers the mobile
	// for SMS sign-in on its own (contract rule 6).
	want := graph.PhoneMethod{ID: methodid.Mobile, PhoneNumber: numberKim, PhoneType: graph.PhoneTypeMobile, SMSSignInState: graph.SMSSignInReady}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Fatalf("CreatePhoneMethod -want +got:\n%s", diff)
	}

	must(c.DisableSMSSignIn(ctx, u.ID, methodid.Mobile))
	if got := get(methodid.Mobile).SMSSignInState; got != graph.SMSSignInNotEnabled {
		t.Errorf("after disable smsSignInState = %q, want %q", got, graph.SMSSignInNotEnabled)
	}
	must(c.EnableSMSSignIn(ctx, u.ID, methodid.Mobile))
	if got := get(methodid.Mobile).SMSSignInState; got != graph.SMSSignInReady {
		t.Errorf("after enable smsSignInState = %q, want %q", got, graph.SMSSignInReady)
	}

	must(c.UpdatePhoneNumber(ctx, u.ID, methodid.Mobile, "mobile", numberKim2))
	if got := get(methodid.Mobile).PhoneNumber; got != numberKim2 {
		t.Errorf("after update phoneNumber = %q, want %q", got, numberKim2)
	}

	alt, err := c.CreatePhoneMethod(ctx, u.ID, graph.PhoneTypeAlternateMobile, numberKim)
	must(err)
	if alt.ID != methodid.AlternateMobile || alt.SMSSignInState != graph.SMSSignInNotSupported {
		t.Errorf("alternate = %+v, want id %s and smsSignInState notSupported", alt, methodid.AlternateMobile)
	}
	ms, err = c.ListPhoneMethods(ctx, u.ID)
	must(err)
	if len(ms) != 2 {
		t.Errorf("list after two creates has %d methods, want 2", len(ms))
	}

	// alternateMobile first: a mobile cannot go while an alternate exists.
	must(c.DeletePhoneMethod(ctx, u.ID, methodid.AlternateMobile))
	must(c.DeletePhoneMethod(ctx, u.ID, methodid.Mobile))
	ms, err = c.ListPhoneMethods(ctx, u.ID)
	must(err)
	if len(ms) != 0 {
		t.Errorf("list after deletes has %d methods, want none", len(ms))
	}

	wantCalls := map[string]int{
		"GET " + graphemu.RouteUser:         1,
		"GET " + graphemu.RoutePhoneList:    3,
		"POST " + graphemu.RoutePhoneList:   2,
		"GET " + graphemu.RoutePhoneItem:    3,
		"PATCH " + graphemu.RoutePhoneItem:  1,
		"DELETE " + graphemu.RoutePhoneItem: 2,
		"POST " + graphemu.RouteEnableSMS:   1,
		"POST " + graphemu.RouteDisableSMS:  1,
	}
	gotCalls := map[string]int{}
	for _, s := range f.env.Emulator.Stats() {
		if s.Status >= 300 {
			t.Errorf("unexpected answer %d to %s %s", s.Status, s.Method, s.Route)
		}
		if s.Route != graphemu.RouteToken && s.Route != graphemu.RouteOpenIDConf {
			gotCalls[s.Method+" "+s.Route] += s.Count
		}
	}
	if diff := cmp.Diff(wantCalls, gotCalls); diff != "" {
		t.Errorf("Graph calls -want +got:\n%s", diff)
	}
	if n := f.tokenCalls(); n != 1 {
		t.Errorf("token requests = %d, want 1 (azidentity caches the token)", n)
	}
	f.recordCost(t)
}
