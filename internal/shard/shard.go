package shard

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

// Label assigns a PhoneAuthMethod or an EntraTenant to the manager started with
// --shard=<its value>, as sharding.fluxcd.io/key does for Flux's controllers. A manager without
// --shard (the default shard) takes the objects without the label, so that one install and
// any number of shards never reconcile an object twice, whatever is labelled.
const Label = "sharding.phoneop.dev/key"

// defaultLeaderElectionID is the Lease of the default shard (and of an unsharded install, so
// that adding shards later keeps the default manager's Lease).
const defaultLeaderElectionID = "phoneop.identity.phoneop.dev"

// Config is one manager's place among the shards.
type Config struct {
	// Name is --shard: "" is the default shard (the objects without the label).
	Name string
	// Count is --shard-count: how many managers share each tenant's Graph budget; 0 counts as 1.
	Count int
}

// Validate checks --shard and --shard-count. A shard name is a DNS label, so it is a valid
// label value and can name a Lease and a Deployment.
func (c Config) Validate() error {
	if c.Count < 1 {
		return fmt.Errorf("--shard-count must be at least 1 (the number of managers sharing each tenant's Graph budget), got %d", c.Count)
	}
	if c.Name == "" {
		return nil
	}
	if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
		return fmt.Errorf("--shard: %q is not a shard name (lower-case letters, digits and '-', at most 63): %s", c.Name, strings.Join(errs, "; "))
	}
	return nil
}

// Selector selects the PhoneAuthMethods this manager reconciles: with a name, those labelled
// sharding.phoneop.dev/key=<name>; without, those without the label (Flux's
// --watch-label-selector='!sharding.fluxcd.io/key'). Where nothing is labelled, the default
// shard's selector matches everything, as an unsharded manager's would.
func (c Config) Selector() labels.Selector {
	op, values := selection.DoesNotExist, []string(nil)
	if c.Name != "" {
		op, values = selection.Equals, []string{c.Name}
	}
	req, err := labels.NewRequirement(Label, op, values)
	if err != nil {
		panic(err) // Validate checked the value; the key is a constant
	}
	return labels.NewSelector().Add(*req)
}

// Cache restricts the cache of PhoneAuthMethods to the shard. EntraTenants stay cached whole:
// they are few, cluster-scoped and hold no secret, and every shard's objects must read their
// tenant (readiness, grants, the change budget) whichever shard reconciles the tenant. Secrets
// and Namespaces are not labelled and stay as they were.
func (c Config) Cache(base cache.Options) cache.Options {
	if base.ByObject == nil {
		base.ByObject = map[client.Object]cache.ByObject{}
	}
	base.ByObject[&identityv1alpha1.PhoneAuthMethod{}] = cache.ByObject{Label: c.Selector()}
	return base
}

// Owns reports whether this manager's EntraTenant reconciler (which obtains a token and writes
// the tenant's status) and change feed handle the tenant: the same rule as Selector, so exactly
// one shard writes each tenant's status.
func (c Config) Owns(t *identityv1alpha1.EntraTenant) bool {
	key, labelled := t.Labels[Label]
	if c.Name == "" {
		return !labelled
	}
	return key == c.Name
}

// SameShard reports whether an object is labelled for the shard of its EntraTenant. The
// tenant's label decides, and only cluster admins write EntraTenants: an object a namespace
// tenant labelled for any other shard is written by no shard (the shard that caches it refuses
// it), so every object that may write a tenant's phones is in that tenant's shard, in one
// cache. Two claimants of one phone therefore always meet in one manager, and one manager
// spends each tenant's change budget.
func SameShard(object, tenant map[string]string) bool {
	ov, oLabelled := object[Label]
	tv, tLabelled := tenant[Label]
	return ov == tv && oLabelled == tLabelled
}

// LeaderElectionID is the shard's own Lease, so the replicas of each shard elect their own
// leader and every shard runs at once.
func (c Config) LeaderElectionID() string {
	if c.Name == "" {
		return defaultLeaderElectionID
	}
	return "phoneop-" + c.Name + ".identity.phoneop.dev"
}

// Limits gives this manager its share of each tenant's Graph budget: every cap (request and
// write rates and buckets) divided by the shard count, so that the shards together never exceed
// the caps one manager would have, and the share of Graph's documented buckets each tenant's
// limiter starts from (graph/adaptive.go), so that the shards' starting rates and buckets add
// up to Graph's documented ones.
func (c Config) Limits(l graph.Limits) graph.Limits {
	if c.Count <= 1 {
		return l
	}
	n := float64(c.Count)
	l.RequestsPerSecond /= n
	l.WritesPerSecond /= n
	l.Burst = max(1, l.Burst/c.Count)
	l.WriteBurst = max(1, l.WriteBurst/c.Count)
	l.Share = 1 / n
	return l
}
