/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/phoneop/phoneop/internal/testharness"
)

// waitPhoneReason waits until a phone's Ready condition has the reason.
func waitPhoneReason(t *testing.T, hs *testharness.Harness, p phone, reason string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		_, got, msg := readyOf(g, hs, p)
		g.Expect(got).To(Equal(reason), "%s/%s: %s", p.namespace, p.name, maskNumbers(msg))
	}, eventually, poll).Should(Succeed())
}

// TestTheChangeBudgetSurvivesAManagerKill: with a cap of 2 destructive writes per hour, a bad
// commit changes three numbers; two are written and the third waits. The manager is killed
// (SIGKILL: no shutdown, no chance to save anything) and a new manager process started: it
// still refuses the third change and a fourth one, because the ledger lives in a Lease, not in
// the process (it used to start with a full budget after every restart).
func TestTheChangeBudgetSurvivesAManagerKill(t *testing.T) {
	hs := isolated(t, testharness.Options{})
	ctx := context.Background()
	g := NewWithT(t)
	first, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: "first"})
	g.Expect(err).NotTo(HaveOccurred())

	two := int32(2)
	tenant := &testharness.Tenant{Name: "contoso-budget", Namespace: "budget-team", MaxDestructiveWritesPerHour: &two}
	g.Expect(hs.CreateTenant(ctx, tenant)).To(Succeed())
	var phones []phone
	for i := 1; i <= 4; i++ {
		p := phone{name: fmt.Sprintf("user%d-mobile", i), namespace: tenant.Namespace, tenant: tenant.Name,
			user: fmt.Sprintf("user%d@contoso.com", i), number: fmt.Sprintf("+1 20655504%02d", i)}
		_, err := hs.AddUser(ctx, tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
		phones = append(phones, p)
	}
	applyPhones(t, hs, phones...)
	waitPhonesReady(t, hs, eventually, phones...) // creates spend the creates pool, not this cap
	g.Expect(hs.ResetEmulatorStats(ctx)).To(Succeed())

	// The bad commit, first part: three number changes against a cap of two.
	changed := func(p phone) phone { p.number = "+1 20655505" + p.number[len(p.number)-2:]; return p }
	bad := []phone{changed(phones[0]), changed(phones[1]), changed(phones[2])}
	applyPhones(t, hs, bad...)
	g.Eventually(func(g Gomega) {
		waiting := 0
		for _, p := range bad {
			st, reason, _ := readyOf(g, hs, p)
			if reason == "ChangeBudgetExceeded" {
				waiting++
			} else {
				g.Expect(st).To(Equal("True"), "%s", p.name)
			}
		}
		g.Expect(waiting).To(Equal(1))
	}, eventually, poll).Should(Succeed())
	patches := func() int {
		stats, err := hs.EmulatorStats(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		return stats.Count("PATCH", "/users/{id}/authentication/phoneMethods/{methodId}")
	}
	g.Expect(patches()).To(Equal(2), "two number changes within the cap")

	g.Expect(first.Kill()).To(Succeed())
	second, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: "second"})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = second.Stop() }()

	// The bad commit goes on after the restart: the new manager refuses it too.
	fourth := changed(phones[3])
	applyPhones(t, hs, fourth)
	waitPhoneReason(t, hs, fourth, "ChangeBudgetExceeded")
	for _, p := range bad {
		if _, reason, _ := readyOf(g, hs, p); reason == "ChangeBudgetExceeded" {
			waitPhoneReason(t, hs, p, "ChangeBudgetExceeded") // still waiting
		}
	}
	g.Expect(patches()).To(Equal(2), "the restarted manager wrote past the cap")
	page, err := second.Scrape(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	series := `phoneop_change_budget_remaining{tenant="` + strings.ToLower(tenant.TenantID) + `"}`
	g.Expect(page).To(ContainSubstring(series+" 0"), "the restarted manager reports the budget spent")
}

// TestRaisingTheCapSendsEachWaitingDeleteOnceEndToEnd: five deletes wait for a spent budget;
// raising the cap (kubectl patch) sends each DELETE to Graph exactly once.
func TestRaisingTheCapSendsEachWaitingDeleteOnceEndToEnd(t *testing.T) {
	hs := isolated(t, testharness.Options{})
	ctx := context.Background()
	g := NewWithT(t)
	m, err := hs.StartManager(ctx, testharness.ManagerOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = m.Stop() }()
	zero := int32(0)
	tenant := &testharness.Tenant{Name: "contoso-raise", Namespace: "raise-team", MaxDestructiveWritesPerHour: &zero}
	g.Expect(hs.CreateTenant(ctx, tenant)).To(Succeed())
	var phones []phone
	var docs []string
	for i := 1; i <= 5; i++ {
		p := phone{name: fmt.Sprintf("user%d-mobile", i), namespace: tenant.Namespace, tenant: tenant.Name,
			user: fmt.Sprintf("user%d@contoso.com", i), number: fmt.Sprintf("+1 20655506%02d", i)}
		_, err := hs.AddUser(ctx, tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
		phones = append(phones, p)
		docs = append(docs, p.yaml()+"  deletionPolicy: Delete\n")
	}
	kubectlOn(t, hs, strings.Join(docs, "---\n"), "apply", "-f", "-")
	waitPhonesReady(t, hs, eventually, phones...)
	for _, p := range phones {
		kubectlOn(t, hs, "", "delete", "pam", p.name, "-n", p.namespace, "--wait=false")
	}
	for _, p := range phones {
		waitPhoneReason(t, hs, p, "ChangeBudgetExceeded")
	}
	g.Expect(hs.ResetEmulatorStats(ctx)).To(Succeed())
	kubectlOn(t, hs, "", "patch", "entratenant", tenant.Name, "--type=merge", "-p", `{"spec":{"changeBudget":{"maxDestructiveWritesPerHour":10}}}`)
	g.Eventually(func() string {
		out, _ := tryKubectlOn(hs, "", "get", "pam", "-n", tenant.Namespace, "-o", "name")
		return strings.TrimSpace(out)
	}, eventually, poll).Should(BeEmpty())
	stats, err := hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stats.Count("DELETE", "/users/{id}/authentication/phoneMethods/{methodId}")).To(Equal(5), "each waiting delete sent once:\n%s", stats)
}
