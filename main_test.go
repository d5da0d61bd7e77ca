/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package main

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/phoneop/phoneop/internal/shard"
)

func validOptions() options {
	return options{resyncPeriod: time.Minute, graphRPS: 1, graphBurst: 1, graphWPS: 1, maxConcurrent: 1, credentialsNamespace: "phoneop-system", shard: shard.Config{Count: 1}}
}

func TestCacheNamespaces(t *testing.T) {
	cases := map[string]struct {
		reason      string
		flag, creds string
		want        []string // nil: every namespace
		wantErr     string
	}{
		"no flag watches every namespace": {
			reason: "the default install is cluster-wide", creds: "phoneop-system", want: nil,
		},
		"the credentials namespace is added": {
			reason: "the EntraTenant controller watches credential Secrets there",
			flag:   "team-a,team-b", creds: "phoneop-system", want: []string{"phoneop-system", "team-a", "team-b"},
		},
		"spaces, empties and duplicates are dropped": {
			reason: "a hand-written list in a Deployment should not fail on a stray comma",
			flag:   " team-a, ,team-a,phoneop-system,", creds: "phoneop-system", want: []string{"phoneop-system", "team-a"},
		},
		"only commas is every namespace": {
			reason: "nothing named means nothing restricted", flag: ",", creds: "phoneop-system", want: nil,
		},
		"a name that is not a namespace is refused": {
			reason: "a typo must not start a manager that watches nothing", flag: "team_a", creds: "phoneop-system",
			wantErr: `"team_a" is not a namespace name`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := validOptions()
			o.watchNamespaces, o.credentialsNamespace = c.flag, c.creds
			got, err := o.cacheNamespaces()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("%s: error %v, want one containing %q", c.reason, err, c.wantErr)
				}
				if o.validate() == nil {
					t.Errorf("%s: validate accepted the flag", c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotNames []string
			if got != nil {
				gotNames = slices.Sorted(maps.Keys(got))
			}
			if diff := cmp.Diff(c.want, gotNames); diff != "" {
				t.Errorf("%s: -want +got:\n%s", c.reason, diff)
			}
		})
	}
}

func TestLeaseNamespace(t *testing.T) {
	cases := map[string]struct {
		flag, pod, creds, want string
	}{
		"the flag wins":                                       {flag: "leases", pod: "phoneop-system", creds: "creds", want: "leases"},
		"in cluster: the pod's namespace":                     {pod: "phoneop-system", creds: "creds", want: "phoneop-system"},
		"out of cluster: the credentials namespace":           {creds: "creds", want: "creds"},
		"nothing set: none (validate refuses --leader-elect)": {want: ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := options{leaderElectionNamespace: c.flag, podNamespace: c.pod, credentialsNamespace: c.creds}
			if got := o.leaseNamespace(); got != c.want {
				t.Errorf("lease namespace %q, want %q", got, c.want)
			}
		})
	}
	o := validOptions()
	o.credentialsNamespace, o.leaderElect = "", true
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--leader-election-namespace") {
		t.Errorf("--leader-elect without any namespace: got %v, want a refusal naming --leader-election-namespace", err)
	}
}

// TestReviewNamespaceAccess: the start-up check names the first namespace and permission the
// identity lacks, and passes when every review is allowed.
func TestReviewNamespaceAccess(t *testing.T) {
	cs := fake.NewClientset()
	var asked []string
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		ra := r.Spec.ResourceAttributes
		asked = append(asked, ra.Namespace+"/"+ra.Resource+"/"+ra.Verb)
		r.Status.Allowed = ra.Namespace != "team-b" || ra.Resource != "secrets"
		return true, r, nil
	})
	reviews := cs.AuthorizationV1().SelfSubjectAccessReviews()
	if err := reviewNamespaceAccess(context.Background(), reviews, []string{"phoneop-system", "team-a"}); err != nil {
		t.Errorf("all allowed: %v", err)
	}
	if len(asked) != 2*len(namespaceAccess) {
		t.Errorf("asked %d reviews for 2 namespaces, want %d: %v", len(asked), 2*len(namespaceAccess), asked)
	}
	err := reviewNamespaceAccess(context.Background(), reviews, []string{"team-a", "team-b"})
	if err == nil || !strings.Contains(err.Error(), "may not list secrets in namespace team-b") || !strings.Contains(err.Error(), "RoleBinding in team-b") {
		t.Errorf("team-b denies Secrets: got %v, want an error naming team-b, secrets and the RoleBinding fix", err)
	}
}

// TestShardFlagsReachSetup: --shard and --shard-count reach controllers.Setup unchanged, which
// divides the Graph caps among the shards (internal/shard) and wires the shard everywhere.
func TestShardFlagsReachSetup(t *testing.T) {
	o := validOptions()
	o.graphRPS, o.graphBurst, o.graphWPS, o.shard = 300, 3000, 60, shard.Config{Name: "eu-1", Count: 3}
	got := controllerOptions(o)
	if got.Shard != o.shard {
		t.Errorf("Shard %+v, want %+v", got.Shard, o.shard)
	}
	if got.GraphLimits.RequestsPerSecond != 300 || got.GraphLimits.Burst != 3000 || got.GraphLimits.WritesPerSecond != 60 {
		t.Errorf("the flags' caps must reach Setup whole (Setup divides them): %+v", got.GraphLimits)
	}
}
