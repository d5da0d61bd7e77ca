/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

// feedTenant has the change feed on. It stays for the rest of the run: its feed's metrics are
// then on the scrapes TestMetricsReferencedByPrometheusConfig checks. Its own tenant and
// namespace keep the other tests' counts (contoso's) untouched.
var feedTenant = &testharness.Tenant{Name: "feedco", Namespace: "e2e-feed",
	Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll, graphemu.PermAuditLogReadAll,
		graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}}

const feedPoll = 5 * time.Second

// TestChangeFeed runs the built manager against the emulator's audit log with its default
// delivery lag (2 minutes, Entra's 95th percentile) and the harness's one-hour
// --resync-period: an admin's change in the portal is put back through the feed within the
// lag plus a poll plus 30 s, and the feed reports it on /metrics.
func TestChangeFeed(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(h.CreateTenant(ctx, feedTenant)).To(Succeed())
	user, err := h.AddUser(ctx, feedTenant.TenantID, "fay@feed.example")
	g.Expect(err).NotTo(HaveOccurred())
	fay := pam{name: "fay-mobile", namespace: feedTenant.Namespace, user: user, phoneType: "mobile", number: "+1 5095550110"}
	mustKubectl(t, fmt.Sprintf(`apiVersion: identity.phoneop.dev/v1alpha1
kind: PhoneAuthMethod
metadata: {name: %s, namespace: %s}
spec: {tenantRef: {name: %s}, user: %s, phoneType: mobile, phoneNumber: %q}
`, fay.name, fay.namespace, feedTenant.Name, fay.user, fay.number), "apply", "-f", "-")
	waitReady(t, fay)
	mustKubectl(t, "", "patch", "entratenant", feedTenant.Name, "--type=merge",
		"-p", fmt.Sprintf(`{"spec":{"changeFeed":{"enabled":true,"pollInterval":"%s"}}}`, feedPoll))
	mustKubectl(t, "", "wait", "entratenant/"+feedTenant.Name, "--for=condition=ChangeFeed", "--timeout="+eventually.String())

	const lag = 2 * time.Minute // hack/graph-emulator's default -audit-lag
	changed := time.Now()
	g.Expect(h.SetPhoneMethod(ctx, feedTenant.TenantID, user, "mobile", "+1 5095550177")).To(Succeed())
	g.Eventually(func(g Gomega) {
		methods, err := h.PhoneMethods(ctx, feedTenant.TenantID, user)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(methods).To(ContainElement(HaveField("PhoneNumber", fay.number)), "fay's mobile is back")
	}, lag+feedPoll+30*time.Second, time.Second).Should(Succeed())
	t.Logf("corrected through the change feed %s after the change (audit lag %s, poll %s, resync 1h)",
		time.Since(changed).Round(time.Second), lag, feedPoll)

	page, err := h.Scrape(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	label := `tenant="` + feedTenant.TenantID + `"`
	g.Expect(testharness.SumMetric(page, "phoneop_change_feed_healthy", label)).To(Equal(1.0))
	g.Expect(testharness.SumMetric(page, "phoneop_change_feed_users_woken_total", label)).To(BeNumerically(">=", 1))
	g.Expect(testharness.SumMetric(page, "phoneop_change_feed_lag_seconds", label)).To(BeNumerically("<", 60))
	g.Expect(testharness.SumMetric(page, "phoneop_graph_requests_total", `operation="listDirectoryAudits"`, `code="200"`)).To(BeNumerically(">=", 1))
}
