/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/phoneop/phoneop/internal/testharness"
)

// shardLabel is main.go's ShardLabel, spelled out as a user writes it.
const shardLabel = "sharding.phoneop.dev/key"

// shardThrottleScale scales the emulator's Graph limits (x-ms throttling buckets) so that two
// shards that each took the whole budget would overrun it: the request bucket becomes 70 at
// 7/s, writes 60 at 0.4/s.
const shardThrottleScale = "0.02"

// shardedPhone is a phone labelled for a shard ("" = unlabelled, the default shard's).
type shardedPhone struct {
	phone
	shard string
}

func (p shardedPhone) yaml() string {
	y := p.phone.yaml()
	if p.shard == "" {
		return y
	}
	meta := fmt.Sprintf("metadata: {name: %s, namespace: %s}", p.name, p.namespace)
	return strings.Replace(y, meta, fmt.Sprintf("metadata: {name: %s, namespace: %s, labels: {%s: %s}}", p.name, p.namespace, shardLabel, p.shard), 1)
}

// reconciled reads a manager's log (run with --zap-log-level=5, where controller-runtime logs
// every reconcile it starts) and returns "namespace/name" → the reconcile messages the
// controller logged for that object.
func reconciled(t *testing.T, log, controller string) map[string][]string {
	t.Helper()
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg, Controller, Namespace, Name string
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Controller != controller || !strings.HasPrefix(l.Msg, "Reconcil") {
			continue
		}
		key := l.Name
		if l.Namespace != "" {
			key = l.Namespace + "/" + l.Name
		}
		out[key] = append(out[key], l.Msg)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// created counts the phone methods the emulator created (a POST answered 429 and retried
// counts once, as its 201).
func created(stats testharness.Stats) int {
	n := 0
	for _, s := range stats {
		if s.Method == http.MethodPost && s.Route == "/users/{id}/authentication/phoneMethods" && s.Status == http.StatusCreated {
			n += s.Count
		}
	}
	return n
}

// TestShardsSplitOneTenant runs two shards (--shard=a, --shard=b) of one tenant's objects
// against one API server and one emulator whose limits are scaled to 2 % (a request bucket of
// 70 at 7/s), with the Graph caps set just under that limit and --shard-count=3 (the two shards
// and the default shard started last), so each manager takes a third:
//   - each shard has its own Lease and leads it;
//   - every object is reconciled by its shard and by no other (the managers' reconcile logs),
//     and every Graph call the emulator answered was made by exactly one manager;
//   - the tenant is labelled for shard a: only a checks it and writes its status, while b's
//     objects read it from b's cache (EntraTenants are cached whole) and converge;
//   - an unlabelled object is left alone by both shards, and converged by the default shard
//     once it starts;
//   - all Ready, one phone created per object, and under 1 % of the combined requests
//     answered 429. The 40 labelled objects cost about 120 requests, more than the scaled
//     bucket of 70, so the limit binds: the shards, at a third of the caps each, converge in
//     about 20 s with no 429 (measured); with --shard-count=1 each would start with the whole
//     bucket of 60 (together 120, over the emulator's 70) and converged in about 9 s with one
//     429 (0.8 %) in the run measured: the adaptive limiter absorbs the overrun at this size,
//     so the split is what keeps the shards within the caps, not what keeps 429s rare here.
func TestShardsSplitOneTenant(t *testing.T) {
	hs := isolated(t, testharness.Options{EmulatorArgs: []string{"-throttle-scale=" + shardThrottleScale}})
	ctx := context.Background()
	g := NewWithT(t)
	t.Setenv("POD_NAMESPACE", "") // out of cluster: the Leases go to the credentials namespace
	// The caps one manager would have (just under the scaled 7/s and 70), shared three ways.
	common := []string{"--leader-elect", "--shard-count=3", "--graph-requests-per-second=6", "--graph-burst=60", "--zap-log-level=5"}
	shards := map[string]*testharness.Manager{}
	for _, name := range []string{"a", "b"} {
		m, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: name, Args: append([]string{"--shard=" + name}, common...)})
		g.Expect(err).NotTo(HaveOccurred(), "shard %s", name)
		shards[name] = m
	}
	for name, m := range shards {
		lease := "phoneop-" + name + ".identity.phoneop.dev"
		g.Eventually(func(g Gomega) {
			v, err := m.Metric(ctx, leaderMetric, `name="`+lease+`"`)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(v).To(Equal(1.0), "shard %s leads its Lease %s", name, lease)
		}, eventually, poll).Should(Succeed())
	}
	leases := kubectlOn(t, hs, "", "get", "lease", "-n", testharness.CredentialsNamespace, "-o", "jsonpath={.items[*].metadata.name}")
	g.Expect(strings.Fields(leases)).To(ContainElements("phoneop-a.identity.phoneop.dev", "phoneop-b.identity.phoneop.dev"))
	g.Expect(strings.Fields(leases)).NotTo(ContainElement("phoneop.identity.phoneop.dev"), "no default shard runs yet")

	tenant := &testharness.Tenant{Name: "contoso-shards", Namespace: "shards-team", Labels: map[string]string{shardLabel: "a"}}
	g.Expect(hs.CreateTenant(ctx, tenant)).To(Succeed(), "shard a makes its tenant Ready")
	const perShard = 20
	var phones []shardedPhone
	for _, shard := range []string{"a", "b"} {
		for i := 1; i <= perShard; i++ {
			user := fmt.Sprintf("%s%d@contoso.com", shard, i)
			phones = append(phones, shardedPhone{shard: shard, phone: phone{name: fmt.Sprintf("%s%d-mobile", shard, i),
				namespace: tenant.Namespace, tenant: tenant.Name, user: user, number: fmt.Sprintf("+1 20655%s%03d", map[string]string{"a": "51", "b": "52"}[shard], i)}})
		}
	}
	loose := shardedPhone{phone: phone{name: "unlabelled-mobile", namespace: tenant.Namespace, tenant: tenant.Name,
		user: "unlabelled@contoso.com", number: "+1 2065553001"}}
	var docs []string
	for _, p := range append(slices.Clone(phones), loose) {
		_, err := hs.AddUser(ctx, tenant.TenantID, p.user)
		g.Expect(err).NotTo(HaveOccurred())
		docs = append(docs, p.yaml())
	}
	g.Expect(hs.ResetEmulatorStats(ctx)).To(Succeed())
	kubectlOn(t, hs, strings.Join(docs, "---\n"), "apply", "-f", "-")
	plain := make([]phone, len(phones))
	for i, p := range phones {
		plain[i] = p.phone
	}
	took := waitPhonesReady(t, hs, 2*eventually, plain...)
	t.Logf("%d phones (%d per shard) Ready after %s", len(phones), perShard, took)

	// Both shards are done with their objects; the unlabelled one is in neither cache.
	st, _, _ := readyOf(g, hs, loose.phone)
	g.Expect(st).To(BeEmpty(), "an unlabelled object got a status with only shards running")

	byShard := map[string]map[string][]string{}
	for name, m := range shards {
		byShard[name] = reconciled(t, m.Log, "phoneauthmethod")
		g.Expect(byShard[name]).NotTo(BeEmpty(), "shard %s logged no reconcile (is --zap-log-level=5 still where controller-runtime logs them?)", name)
	}
	for _, p := range append(slices.Clone(phones), loose) {
		key := p.namespace + "/" + p.name
		for name := range shards {
			_, did := byShard[name][key]
			g.Expect(did).To(Equal(p.shard == name), "shard %s reconciled %s (labelled %q): %v", name, key, p.shard, did)
		}
	}
	tenantReconciles := map[string][]string{}
	for name, m := range shards {
		tenantReconciles[name] = reconciled(t, m.Log, "entratenant")[tenant.Name]
	}
	// The owner checks the tenant and schedules its 10-minute recheck; the other shard skips it
	// (returns at once, nothing scheduled) on every event the owner's status writes cause.
	g.Expect(tenantReconciles["a"]).To(ContainElement(HavePrefix("Reconcile done, requeueing after")), "shard a checked its tenant")
	g.Expect(tenantReconciles["b"]).NotTo(ContainElement(HavePrefix("Reconcile done, requeueing after")), "shard b checked shard a's tenant: %v", tenantReconciles["b"])

	stats, err := hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	reads, writes := stats.Graph()
	g.Expect(created(stats)).To(Equal(len(phones)), "one phone created per object, none twice")
	var made float64
	for name, m := range shards {
		n := graphRequests(g, m)
		g.Expect(n).To(BeNumerically(">", 0), "shard %s called Graph", name)
		made += n
		t.Logf("shard %s: %d phone reconciles logged, %.0f Graph requests", name, len(byShard[name]), n)
	}
	// Graph routes only: token and discovery requests are not Graph calls.
	g.Expect(made).To(BeNumerically("==", reads+writes), "every Graph call the emulator answered was made by one shard")

	// The default shard takes the unlabelled object, and only that one.
	def, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: "default", Args: common})
	g.Expect(err).NotTo(HaveOccurred())
	waitPhonesReady(t, hs, eventually, loose.phone)
	g.Expect(reconciled(t, def.Log, "phoneauthmethod")).To(HaveLen(1), "the default shard reconciled labelled objects")
	g.Expect(reconciled(t, def.Log, "phoneauthmethod")).To(HaveKey(loose.namespace + "/" + loose.name))

	stats, err = hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	reads, writes = stats.Graph()
	throttled := 0
	for _, s := range stats {
		if s.Status == http.StatusTooManyRequests {
			throttled += s.Count
		}
	}
	total := reads + writes
	t.Logf("three managers, one tenant: %d Graph requests (%d writes), %d answered 429 (%.2f %%)\n%s",
		total, writes, throttled, 100*float64(throttled)/float64(total), stats)
	g.Expect(created(stats)).To(Equal(len(phones) + 1))
	g.Expect(float64(throttled)).To(BeNumerically("<", 0.01*float64(total)), "429s are 1 %% or more of the requests")
	waitPhonesReady(t, hs, eventually, plain...)
}
