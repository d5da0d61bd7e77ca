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

// TestShardsFollowTheirTenants runs two shards (--shard=a, --shard=b) against one API server
// and one emulator whose limits are scaled to 2 % (a request bucket of 70 at 7/s per tenant),
// with one tenant labelled for each shard by the admin, and checks that the shard of an object
// is its tenant's, whatever label a namespace tenant puts on the object:
//   - each shard has its own Lease and leads it;
//   - every object is reconciled by the shard its label names and by no other (the managers'
//     reconcile logs), and every Graph call the emulator answered was made by one manager;
//   - each tenant is checked, and its status written, by its own shard only;
//   - a stray object of tenant a labelled for shard b — a second claimant of a phone shard a
//     manages — is refused by shard b (WrongShard) with no Graph call: the phone is written
//     once, by its owner in shard a, and keeps the owner's number;
//   - an unlabelled object of tenant a is left alone by both shards, and refused (WrongShard)
//     by the default shard once it starts, which calls Graph not at all;
//   - one phone created per object, and under 1 % of the requests answered 429: each tenant is
//     written by one manager, which keeps the tenant's whole budget (--shard-count=1).
func TestShardsFollowTheirTenants(t *testing.T) {
	hs := isolated(t, testharness.Options{EmulatorArgs: []string{"-throttle-scale=" + shardThrottleScale}})
	ctx := context.Background()
	g := NewWithT(t)
	t.Setenv("POD_NAMESPACE", "") // out of cluster: the Leases go to the credentials namespace
	// Each tenant has one writer, so each manager keeps all of the caps (just under 7/s, 70).
	common := []string{"--leader-elect", "--shard-count=1", "--graph-requests-per-second=6", "--graph-burst=60", "--zap-log-level=5"}
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

	tenants := map[string]*testharness.Tenant{}
	for _, shard := range []string{"a", "b"} {
		tenants[shard] = &testharness.Tenant{Name: "contoso-" + shard, Namespace: "shards-" + shard, Labels: map[string]string{shardLabel: shard}}
		g.Expect(hs.CreateTenant(ctx, tenants[shard])).To(Succeed(), "shard %s makes its tenant Ready", shard)
	}
	const perShard = 20
	var phones []shardedPhone
	for _, shard := range []string{"a", "b"} {
		tn := tenants[shard]
		for i := 1; i <= perShard; i++ {
			phones = append(phones, shardedPhone{shard: shard, phone: phone{name: fmt.Sprintf("%s%d-mobile", shard, i), namespace: tn.Namespace,
				tenant: tn.Name, user: fmt.Sprintf("%s%d@contoso.com", shard, i), number: fmt.Sprintf("+1 20655%s%03d", map[string]string{"a": "51", "b": "52"}[shard], i)}})
		}
	}
	// Written by tenant a's namespace tenant, who labels it for shard b: a second claim on a1's
	// phone, from a shard that would not see a1.
	stray := shardedPhone{shard: "b", phone: phone{name: "stray-mobile", namespace: tenants["a"].Namespace, tenant: tenants["a"].Name,
		user: "a1@contoso.com", number: "+1 2065553002"}}
	loose := shardedPhone{phone: phone{name: "unlabelled-mobile", namespace: tenants["a"].Namespace, tenant: tenants["a"].Name,
		user: "unlabelled@contoso.com", number: "+1 2065553001"}}
	tenantIDs := map[string]string{tenants["a"].Name: tenants["a"].TenantID, tenants["b"].Name: tenants["b"].TenantID}
	var docs []string
	for _, p := range append(slices.Clone(phones), loose) {
		_, err := hs.AddUser(ctx, tenantIDs[p.tenant], p.user)
		g.Expect(err).NotTo(HaveOccurred())
		docs = append(docs, p.yaml())
	}
	docs = append(docs, stray.yaml())
	g.Expect(hs.ResetEmulatorStats(ctx)).To(Succeed())
	kubectlOn(t, hs, strings.Join(docs, "---\n"), "apply", "-f", "-")
	plain := make([]phone, len(phones))
	for i, p := range phones {
		plain[i] = p.phone
	}
	took := waitPhonesReady(t, hs, 2*eventually, plain...)
	t.Logf("%d phones (%d per shard) Ready after %s", len(phones), perShard, took)
	g.Eventually(func(g Gomega) {
		st, reason, _ := readyOf(g, hs, stray.phone)
		g.Expect([]string{st, reason}).To(Equal([]string{"False", "WrongShard"}), "the stray object")
	}, eventually, poll).Should(Succeed())

	// The unlabelled object is in neither shard's cache.
	st, _, _ := readyOf(g, hs, loose.phone)
	g.Expect(st).To(BeEmpty(), "an unlabelled object got a status with only shards running")

	byShard := map[string]map[string][]string{}
	for name, m := range shards {
		byShard[name] = reconciled(t, m.Log, "phoneauthmethod")
		g.Expect(byShard[name]).NotTo(BeEmpty(), "shard %s logged no reconcile (is --zap-log-level=5 still where controller-runtime logs them?)", name)
	}
	for _, p := range append(slices.Clone(phones), loose, stray) {
		key := p.namespace + "/" + p.name
		for name := range shards {
			_, did := byShard[name][key]
			g.Expect(did).To(Equal(p.shard == name), "shard %s reconciled %s (labelled %q): %v", name, key, p.shard, did)
		}
	}
	// Each tenant's owner checks it and schedules its recheck; the other shard skips it.
	for shard, tn := range tenants {
		for name, m := range shards {
			done := ContainElement(HavePrefix("Reconcile done, requeueing after"))
			if name == shard {
				g.Expect(reconciled(t, m.Log, "entratenant")[tn.Name]).To(done, "shard %s checked its tenant %s", name, tn.Name)
			} else {
				g.Expect(reconciled(t, m.Log, "entratenant")[tn.Name]).NotTo(done, "shard %s checked shard %s's tenant", name, shard)
			}
		}
	}

	stats, err := hs.EmulatorStats(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	reads, writes := stats.Graph()
	g.Expect(created(stats)).To(Equal(len(phones)), "one phone created per object, none twice, none for the stray claim")
	methods, err := hs.PhoneMethods(ctx, tenants["a"].TenantID, "a1@contoso.com")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(methods).To(ContainElement(HaveField("PhoneNumber", "+1 2065551001")), "a1's phone keeps its owner's number")
	var made float64
	for name, m := range shards {
		n := graphRequests(g, m)
		g.Expect(n).To(BeNumerically(">", 0), "shard %s called Graph", name)
		made += n
		t.Logf("shard %s: %d phone reconciles logged, %.0f Graph requests", name, len(byShard[name]), n)
	}
	// Graph routes only: token and discovery requests are not Graph calls.
	g.Expect(made).To(BeNumerically("==", reads+writes), "every Graph call the emulator answered was made by one shard")

	// The default shard caches the unlabelled object, and refuses it: its tenant is shard a's.
	def, err := hs.StartManager(ctx, testharness.ManagerOptions{Name: "default", Args: common})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func(g Gomega) {
		st, reason, _ := readyOf(g, hs, loose.phone)
		g.Expect([]string{st, reason}).To(Equal([]string{"False", "WrongShard"}), "the unlabelled object of a labelled tenant")
	}, eventually, poll).Should(Succeed())
	g.Expect(reconciled(t, def.Log, "phoneauthmethod")).To(HaveLen(1), "the default shard reconciled labelled objects")
	g.Expect(graphRequests(g, def)).To(BeZero(), "the default shard called Graph for another shard's tenant")

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
	t.Logf("three managers, two tenants: %d Graph requests (%d writes), %d answered 429 (%.2f %%)\n%s",
		total, writes, throttled, 100*float64(throttled)/float64(total), stats)
	g.Expect(created(stats)).To(Equal(len(phones)))
	g.Expect(float64(throttled)).To(BeNumerically("<", 0.01*float64(total)), "429s are 1 %% or more of the requests")
}
