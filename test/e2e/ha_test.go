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

	"github.com/phoneop/phoneop/internal/testharness"
)

const (
	// leaseDuration and retryPeriod are controller-runtime's defaults, which the manager keeps:
	// a standby looks at the Lease every retryPeriod and takes it once leaseDuration has passed
	// without the leader renewing it.
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
	// reconcileBudget is what the new leader may take, once it leads, to start its controllers
	// and converge one new object (measured: under a second; the rest is slack for a loaded
	// machine).
	reconcileBudget = 8 * time.Second
	leaderMetric    = "leader_election_master_status"
)

// leaderOf returns which of the replicas reports itself leader (leader_election_master_status
// is 1), nil while none does; more than one fails the test.
func leaderOf(g Gomega, replicas ...*testharness.Manager) *testharness.Manager {
	var leader *testharness.Manager
	for _, m := range replicas {
		if m.Running() != nil {
			continue
		}
		v, err := m.Metric(context.Background(), leaderMetric, `name="phoneop.identity.phoneop.dev"`)
		g.Expect(err).NotTo(HaveOccurred())
		if v == 1 {
			g.Expect(leader).To(BeNil(), "two replicas report themselves leader")
			leader = m
		}
	}
	return leader
}

// graphRequests sums a replica's phoneop_graph_requests_total (every Graph attempt it made,
// answered or not).
func graphRequests(g Gomega, m *testharness.Manager) float64 {
	v, err := m.Metric(context.Background(), "phoneop_graph_requests_total")
	g.Expect(err).NotTo(HaveOccurred())
	return v
}

// TestHighAvailabilityOutOfCluster runs two manager replicas with --leader-elect outside any
// cluster (no POD_NAMESPACE, no in-cluster service account: the Lease goes to the credentials
// namespace) against one API server:
//   - exactly one becomes leader; it makes every Graph call, the standby none at all;
//   - the leader is killed (SIGKILL: no Lease release), a new object is created at once, and
//     the standby converges it within the lease duration (plus the retry period at which it
//     looks at the Lease) plus one reconcile;
//   - the takeover writes nothing twice: the objects converged before cost no new write.
func TestHighAvailabilityOutOfCluster(t *testing.T) {
	hs := isolated(t, testharness.Options{})
	ctx := context.Background()
	g := NewWithT(t)
	t.Setenv("POD_NAMESPACE", "") // out of cluster, even if the test runs in a pod
	var replicas []*testharness.Manager
	for _, name := range []string{"a", "b"} {
		m, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: name, Args: []string{"--leader-elect"}})
		g.Expect(err).NotTo(HaveOccurred(), "replica %s", name)
		replicas = append(replicas, m)
	}
	var leader *testharness.Manager
	g.Eventually(func(g Gomega) {
		leader = leaderOf(g, replicas...)
		g.Expect(leader).NotTo(BeNil())
	}, eventually, poll).Should(Succeed())
	standby := replicas[0]
	if leader == replicas[0] {
		standby = replicas[1]
	}
	lease := kubectlOn(t, hs, "", "get", "lease", "-n", testharness.CredentialsNamespace, "phoneop.identity.phoneop.dev", "-o", "jsonpath={.spec.holderIdentity}")
	t.Logf("replica %s leads (Lease %s/phoneop.identity.phoneop.dev held by %s)", leader.Name, testharness.CredentialsNamespace, lease)

	tenant := &testharness.Tenant{Name: "contoso-ha", Namespace: "ha-team"}
	g.Expect(hs.CreateTenant(ctx, tenant)).To(Succeed())
	var phones []phone
	for i := 1; i <= 3; i++ {
		p := phone{name: fmt.Sprintf("user%d-mobile", i), namespace: tenant.Namespace, tenant: tenant.Name,
			user: fmt.Sprintf("user%d@contoso.com", i), number: fmt.Sprintf("+1 20655502%02d", i)}
		_, err := hs.AddUser(ctx, tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
		phones = append(phones, p)
	}
	applyPhones(t, hs, phones...)
	waitPhonesReady(t, hs, eventually, phones...)

	stats, err := hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	reads, writes := stats.Graph()
	g.Expect(writes).To(Equal(len(phones)), "one POST per phone")
	g.Expect(graphRequests(g, leader)).To(BeNumerically("==", reads+writes), "the leader made every Graph call the emulator answered")
	g.Expect(graphRequests(g, standby)).To(BeZero(), "the standby called Graph")
	t.Logf("before the kill: leader %s made %d reads + %d writes, standby %s made 0", leader.Name, reads, writes, standby.Name)

	g.Expect(hs.ResetEmulatorStats(ctx)).To(Succeed())
	g.Expect(leader.Kill()).To(Succeed())
	killed := time.Now()
	late := phone{name: "late-mobile", namespace: tenant.Namespace, tenant: tenant.Name, user: "late@contoso.com", number: "+1 2065550299"}
	_, err = hs.AddUser(ctx, tenant.TenantID, late.user)
	g.Expect(err).NotTo(HaveOccurred())
	applyPhones(t, hs, late)
	g.Eventually(func(g Gomega) {
		g.Expect(leaderOf(g, standby)).To(Equal(standby))
	}, leaseDuration+eventually, 200*time.Millisecond).Should(Succeed())
	tookOver := time.Since(killed)
	waitPhonesReady(t, hs, leaseDuration+reconcileBudget+eventually, late)
	took := time.Since(killed)
	t.Logf("leader killed; standby %s led after %s and converged a new object %s after the kill (bound: lease %s + retry %s + reconcile %s)",
		standby.Name, tookOver.Round(100*time.Millisecond), took.Round(100*time.Millisecond), leaseDuration, retryPeriod, reconcileBudget)
	g.Expect(took).To(BeNumerically("<", leaseDuration+retryPeriod+reconcileBudget))
	g.Expect(leaderOf(g, standby)).To(Equal(standby))

	stats, err = hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	reads, writes = stats.Graph()
	t.Logf("after the kill: the new leader made %d reads + %d writes\n%s", reads, writes, stats)
	g.Expect(writes).To(Equal(1), "the takeover wrote only the new phone; nothing converged before was written again")
	waitPhonesReady(t, hs, eventually, phones...)
}
