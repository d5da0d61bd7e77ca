/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package main

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// ShardLabel assigns a PhoneAuthMethod or an EntraTenant to the manager started with
// --shard=<its value>, as sharding.fluxcd.io/key does for Flux's controllers. A manager without
// --shard (the default shard) takes the objects without the label, so that one install and
// any number of shards never reconcile an object twice, whatever is labelled.
const ShardLabel = "sharding.phoneop.dev/key"

// defaultLeaderElectionID is the Lease of the default shard (and of every install before
// sharding existed, so that an upgrade keeps the same Lease).
const defaultLeaderElectionID = "phoneop.identity.phoneop.dev"

// validateShard checks --shard and --shard-count. A shard name is a DNS label, so it is a
// valid label value and can name a Lease and a Deployment.
func (o options) validateShard() error {
	if o.shardCount < 1 {
		return fmt.Errorf("--shard-count must be at least 1 (the number of managers sharing each tenant's Graph budget), got %d", o.shardCount)
	}
	if o.shard == "" {
		return nil
	}
	if errs := validation.IsDNS1123Label(o.shard); len(errs) > 0 {
		return fmt.Errorf("--shard: %q is not a shard name (lower-case letters, digits and '-', at most 63): %s", o.shard, strings.Join(errs, "; "))
	}
	return nil
}

// shardSelector selects the PhoneAuthMethods this manager reconciles: with --shard, those
// labelled sharding.phoneop.dev/key=<shard>; without, those without the label (Flux's
// --watch-label-selector='!sharding.fluxcd.io/key'). Where nothing is labelled, the default
// shard's selector matches everything, as an unsharded manager's would.
func (o options) shardSelector() labels.Selector {
	op, values := selection.DoesNotExist, []string(nil)
	if o.shard != "" {
		op, values = selection.Equals, []string{o.shard}
	}
	req, err := labels.NewRequirement(ShardLabel, op, values)
	if err != nil {
		panic(err) // validateShard checked the value; the key is a constant
	}
	return labels.NewSelector().Add(*req)
}

// shardCache restricts the cache of PhoneAuthMethods to the shard. EntraTenants stay cached
// whole: they are few, cluster-scoped and hold no secret, and every shard's objects must read
// their tenant (readiness, grants, the change budget) whichever shard reconciles the tenant.
// Secrets and Namespaces are not labelled and stay as they were.
func (o options) shardCache(base cache.Options) cache.Options {
	base.ByObject = map[client.Object]cache.ByObject{
		&identityv1alpha1.PhoneAuthMethod{}: {Label: o.shardSelector()},
	}
	return base
}

// ownsTenant reports whether this manager's EntraTenant reconciler (which obtains a token and
// writes the tenant's status) handles the tenant: the same rule as shardSelector, so exactly
// one shard writes each tenant's status.
func (o options) ownsTenant(t *identityv1alpha1.EntraTenant) bool {
	key, labelled := t.Labels[ShardLabel]
	if o.shard == "" {
		return !labelled
	}
	return key == o.shard
}

// leaderElectionID is the shard's own Lease, so the replicas of each shard elect their own
// leader and every shard runs at once.
func (o options) leaderElectionID() string {
	if o.shard == "" {
		return defaultLeaderElectionID
	}
	return "phoneop-" + o.shard + ".identity.phoneop.dev"
}

// shardLimits gives this manager its share of each tenant's Graph budget: every cap (request
// and write rates and buckets) divided by --shard-count, so that the shards together never
// exceed the caps one manager would have, and the share of Graph's documented buckets each
// tenant's limiter starts from (graph/adaptive.go), so that the shards' starting rates and
// buckets add up to Graph's documented ones.
func shardLimits(l graph.Limits, shards int) graph.Limits {
	if shards <= 1 {
		return l
	}
	n := float64(shards)
	l.RequestsPerSecond /= n
	l.WritesPerSecond /= n
	l.Burst = max(1, l.Burst/shards)
	l.WriteBurst = max(1, l.WriteBurst/shards)
	l.Share = 1 / n
	return l
}
