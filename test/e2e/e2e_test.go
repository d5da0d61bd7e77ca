/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// Kim has all three phone types; the other tests use users of their own. Numbers are from
// the 555-01xx range reserved for fiction.
var (
	kimMobile = pam{name: "kim-mobile", namespace: teamNamespace, user: "kim@contoso.com",
		phoneType: "mobile", number: "+1 2065550101", smsSignIn: "Enabled"}
	kimAlternate = pam{name: "kim-alternate", namespace: teamNamespace, user: "kim@contoso.com",
		phoneType: "alternateMobile", number: "+1 2065550102"}
	kimOffice = pam{name: "kim-office", namespace: teamNamespace, user: "kim@contoso.com",
		phoneType: "office", number: "+1 4255550103x42"}

	// everyNumber lists the numbers the tests use, for the log check at the end.
	everyNumber = []string{kimMobile.number, kimAlternate.number, kimOffice.number,
		soloMobile.number, driftNumber, deleteMobile.number, strangerMobile.number, observedMobile.number}
)

// addUser registers a user in the emulated tenant.
func addUser(t *testing.T, upn string) {
	t.Helper()
	if _, err := h.AddUser(context.Background(), tenant.TenantID, upn); err != nil {
		t.Fatal(err)
	}
}

// graphMethods is what the emulator holds for a user, by phone type.
func graphMethods(g Gomega, user string) map[string]graphemu.PhoneMethod {
	methods, err := h.PhoneMethods(context.Background(), tenant.TenantID, user)
	g.Expect(err).NotTo(HaveOccurred())
	byType := map[string]graphemu.PhoneMethod{}
	for _, m := range methods {
		byType[m.PhoneType] = m
	}
	return byType
}

var soloMobile = pam{name: "solo-mobile", namespace: teamNamespace, user: "solo@contoso.com",
	phoneType: "mobile", number: "+44 7700900123"}

// TestCreateOneMobile measures what creating a single phone costs.
func TestCreateOneMobile(t *testing.T) {
	addUser(t, soloMobile.user)
	stats := cost(t, "create (one mobile, no SMS setting)", 1, func() {
		apply(t, soloMobile)
		waitReady(t, soloMobile)
	})
	g := NewWithT(t)
	_, writes := stats.Graph()
	g.Expect(writes).To(Equal(1), "one POST creates the mobile")
	g.Expect(graphMethods(g, soloMobile.user)["mobile"].PhoneNumber).To(Equal(soloMobile.number))
}

// TestConverge creates Kim's mobile with SMS sign-in, alternate mobile and office phone.
func TestConverge(t *testing.T) {
	addUser(t, kimMobile.user)
	cost(t, "create (mobile+SMS, alternateMobile, office of one user)", 3, func() {
		apply(t, kimMobile, kimAlternate, kimOffice)
		waitReady(t, kimMobile, kimAlternate, kimOffice)
	})
	g := NewWithT(t)
	got := graphMethods(g, kimMobile.user)
	g.Expect(got["mobile"].PhoneNumber).To(Equal(kimMobile.number))
	g.Expect(got["mobile"].SMSSignInState).To(Equal("ready"))
	g.Expect(got["alternateMobile"].PhoneNumber).To(Equal(kimAlternate.number))
	g.Expect(got["office"].PhoneNumber).To(Equal(kimOffice.number))

	s := getPAM(g, kimMobile)
	g.Expect(s.Status.SMSSignInState).To(Equal("ready"))
	g.Expect(s.Status.UserID).NotTo(BeEmpty())
	g.Expect(s.Status.ObservedGeneration).To(Equal(s.Metadata.Generation))
	g.Expect(s.Status.PhoneNumber).To(ContainSubstring("*"), "status shows the number masked")
	g.Expect(digits(s.Status.PhoneNumber)).NotTo(Equal(digits(kimMobile.number)))
}

// TestPrinterColumns checks what `kubectl get pam` shows, and that the phoneop category
// lists both kinds.
func TestPrinterColumns(t *testing.T) {
	g := NewWithT(t)
	out := mustKubectl(t, "", "get", "pam", "-n", teamNamespace, kimMobile.name, kimOffice.name)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	g.Expect(lines).To(HaveLen(3))
	g.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "USER", "TYPE", "NUMBER", "SMS", "STATE", "READY", "AGE"}))

	mobile := strings.Fields(lines[1])
	g.Expect(mobile[:3]).To(Equal([]string{kimMobile.name, kimMobile.user, "mobile"}))
	g.Expect(mobile[3:5]).To(HaveLen(2)) // the masked number is "+1" "*******101"
	g.Expect(strings.Join(mobile[3:5], " ")).To(MatchRegexp(`^\+1 \*+101$`))
	g.Expect(mobile[5:8]).To(Equal([]string{"Enabled", "ready", "True"}))

	office := strings.Fields(lines[2])
	g.Expect(office[:3]).To(Equal([]string{kimOffice.name, kimOffice.user, "office"}))
	g.Expect(out).NotTo(ContainSubstring(strings.Fields(kimOffice.number)[1]), "the office number is masked")

	all := mustKubectl(t, "", "get", "phoneop", "-A")
	g.Expect(all).To(ContainSubstring("entratenant.identity.phoneop.dev/" + tenant.Name))
	g.Expect(all).To(ContainSubstring("phoneauthmethod.identity.phoneop.dev/" + kimMobile.name))
}

// TestInvalidRejectedWithFieldMessage: the API server refuses a bad object with a message
// naming the field, without echoing the number into CI logs.
func TestInvalidRejectedWithFieldMessage(t *testing.T) {
	cases := map[string]struct {
		obj  pam
		want string
	}{
		"number not in Graph format": {
			obj:  pam{name: "bad-number", namespace: teamNamespace, user: "kim@contoso.com", phoneType: "mobile", number: "206-555-0199"},
			want: "spec.phoneNumber must be in Graph format",
		},
		"smsSignIn on an office phone": {
			obj:  pam{name: "bad-sms", namespace: teamNamespace, user: "kim@contoso.com", phoneType: "office", number: "+1 4255550199", smsSignIn: "Enabled"},
			want: "spec.smsSignIn is only allowed when spec.phoneType is mobile",
		},
		"extension on a mobile": {
			obj:  pam{name: "bad-ext", namespace: teamNamespace, user: "kim@contoso.com", phoneType: "mobile", number: "+1 4255550199x7"},
			want: "spec.phoneNumber may carry an extension (x123) only when spec.phoneType is office",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := kubectl(c.obj.yaml(), "apply", "--dry-run=server", "-f", "-")
			g.Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
			g.Expect(out).To(ContainSubstring(c.want))
			g.Expect(out).NotTo(ContainSubstring(digits(c.obj.number)[4:]), "the rejection echoes the number")
		})
	}
}

// TestSteadyState forces a resync of converged objects: reads only.
func TestSteadyState(t *testing.T) {
	g := NewWithT(t)
	stats := cost(t, "steady state (forced resync of one converged mobile)", 1, func() {
		forceResync(t, soloMobile)
	})
	_, writes := stats.Graph()
	g.Expect(writes).To(BeZero())

	stats = cost(t, "steady state (forced resync of one user's three converged objects)", 3, func() {
		forceResync(t, kimMobile, kimAlternate, kimOffice)
	})
	_, writes = stats.Graph()
	g.Expect(writes).To(BeZero())
}

const driftNumber = "+1 2065550177"

// TestDriftPutBack changes Kim's mobile in Graph out of band (as an admin in the portal
// would); a forced resync puts it back and records a DriftCorrected event.
func TestDriftPutBack(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	stats := cost(t, "drift (mobile number changed out of band, forced resync)", 1, func() {
		g.Expect(h.SetPhoneMethod(ctx, tenant.TenantID, kimMobile.user, "mobile", driftNumber)).To(Succeed())
		forceResync(t, kimMobile)
		g.Eventually(func(g Gomega) {
			g.Expect(graphMethods(g, kimMobile.user)["mobile"].PhoneNumber).To(Equal(kimMobile.number))
		}, eventually, poll).Should(Succeed())
	})
	g.Expect(stats.Count("PATCH", "/users/{id}/authentication/phoneMethods/{methodId}")).To(Equal(1))
	waitReady(t, kimMobile)

	g.Eventually(func(g Gomega) {
		out, err := kubectl("", "get", "events", "-n", teamNamespace, "-o", "json",
			"--field-selector", "involvedObject.name="+kimMobile.name+",reason=DriftCorrected")
		g.Expect(err).NotTo(HaveOccurred())
		var list struct {
			Items []struct{ Message string } `json:"items"`
		}
		g.Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
		g.Expect(list.Items).NotTo(BeEmpty(), "no DriftCorrected event")
		for _, e := range list.Items {
			g.Expect(e.Message).NotTo(ContainSubstring(digits(driftNumber)[4:]), "the event leaks a number")
		}
	}, eventually, poll).Should(Succeed())
}

var deleteMobile = pam{name: "dee-mobile", namespace: teamNamespace, user: "dee@contoso.com",
	phoneType: "mobile", number: "+1 3605550104", deletionPolicy: "Delete"}

// TestDeletionPolicyDelete: deleting the object removes the method from Graph.
func TestDeletionPolicyDelete(t *testing.T) {
	g := NewWithT(t)
	addUser(t, deleteMobile.user)
	apply(t, deleteMobile)
	waitReady(t, deleteMobile)
	g.Expect(graphMethods(g, deleteMobile.user)).To(HaveKey("mobile"))

	stats := cost(t, "delete (deletionPolicy Delete)", 1, func() {
		mustKubectl(t, "", "delete", "-n", deleteMobile.namespace, "pam/"+deleteMobile.name, "--timeout="+eventually.String())
	})
	g.Expect(graphMethods(g, deleteMobile.user)).NotTo(HaveKey("mobile"))
	g.Expect(stats.Count("DELETE", "/users/{id}/authentication/phoneMethods/{methodId}")).To(Equal(1))
}

var strangerMobile = pam{name: "lee-mobile", namespace: strangerNamespace, user: "lee@contoso.com",
	phoneType: "mobile", number: "+1 3605550105"}

// TestForbiddenNamespace: a namespace the tenant does not select gets Forbidden and costs
// Graph nothing.
func TestForbiddenNamespace(t *testing.T) {
	g := NewWithT(t)
	addUser(t, strangerMobile.user)
	mustKubectl(t, "", "create", "namespace", strangerNamespace)
	stats := cost(t, "forbidden namespace", 1, func() {
		apply(t, strangerMobile)
		waitForReason(t, strangerMobile, "False", "Forbidden")
	})
	reads, writes := stats.Graph()
	g.Expect(reads + writes).To(BeZero())
	g.Expect(graphMethods(g, strangerMobile.user)).To(BeEmpty())
}

var observedMobile = pam{name: "obi-mobile", namespace: teamNamespace, user: "obi@contoso.com",
	phoneType: "mobile", number: "+1 3605550106", managementPolicy: "ObserveOnly"}

// TestObserveOnly: plan mode reports what it would do and writes nothing.
func TestObserveOnly(t *testing.T) {
	g := NewWithT(t)
	addUser(t, observedMobile.user)
	stats := cost(t, "ObserveOnly (method absent)", 1, func() {
		apply(t, observedMobile)
		g.Eventually(func(g Gomega) {
			g.Expect(getPAM(g, observedMobile).Status.PlannedActions).NotTo(BeEmpty())
		}, eventually, poll).Should(Succeed())
	})
	_, writes := stats.Graph()
	g.Expect(writes).To(BeZero())
	g.Expect(graphMethods(g, observedMobile.user)).To(BeEmpty())
	for _, a := range getPAM(g, observedMobile).Status.PlannedActions {
		g.Expect(a).NotTo(ContainSubstring(digits(observedMobile.number)[4:]), "plannedActions leak the number")
	}
}
