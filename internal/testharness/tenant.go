/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TenantLabel is the namespace label a Tenant's allowedNamespaces selects (value: the
// tenant's name), as in config/samples.
const TenantLabel = "phoneop.dev/tenant"

// Tenant describes one EntraTenant and its emulated counterpart. CreateTenant fills the
// empty fields in place.
type Tenant struct {
	// Name of the EntraTenant (required).
	Name string
	// TenantID, ClientID and ClientSecret of the emulated tenant and app; "" = random.
	TenantID, ClientID, ClientSecret string
	// Namespace is created with TenantLabel=Name, so the tenant allows it; "" = none.
	Namespace string
	// SMSSignIn is the tenant's SMS sign-in policy; nil = every user.
	SMSSignIn *graphemu.SMSPolicy
	// InEmulator says the emulator already knows the tenant and app (Options.SeedFile), so
	// only the Kubernetes side is created.
	InEmulator bool
	// MaxDestructiveWritesPerHour is the EntraTenant's change budget; nil = the API default
	// (50). Benchmarks that correct drift at scale raise it, so that they measure throughput
	// rather than the safety cap.
	MaxDestructiveWritesPerHour *int32
	// Labels go on the EntraTenant, e.g. the shard label (a manager's --shard); nil = none.
	Labels map[string]string
	// Permissions are the emulated app's application permissions; nil = read-write phone
	// methods and User.Read.All. A change feed needs graphemu.PermAuditLogReadAll too.
	Permissions []string
}

// SecretName is the credential Secret's name in CredentialsNamespace.
func (t *Tenant) SecretName() string { return t.Name + "-graph-app" }

// CreateTenant registers the tenant and an app with read-write phone-method and user-read
// permissions in the emulator, then creates the credential Secret, the labelled namespace
// and the EntraTenant (cloud Custom, pointing at the emulator), and waits until the manager
// reports the EntraTenant Ready (it got a token).
func (h *Harness) CreateTenant(ctx context.Context, t *Tenant) error {
	fillTenant(t)
	if !t.InEmulator {
		if err := h.SeedEmulator(ctx, emulatorSeed(t)); err != nil {
			return err
		}
	}
	for _, obj := range h.TenantObjects(t) {
		if err := client.IgnoreAlreadyExists(h.Client.Create(ctx, obj)); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return h.waitTenantReady(ctx, t.Name)
}

// TenantObjects are the Kubernetes objects of a tenant: credential Secret, namespace (if
// any) and EntraTenant, for callers that apply them some other way.
func (h *Harness) TenantObjects(t *Tenant) []client.Object {
	fillTenant(t)
	objs := []client.Object{&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: t.SecretName(), Namespace: CredentialsNamespace},
		StringData: map[string]string{"clientSecret": t.ClientSecret},
	}}
	if t.Namespace != "" {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: t.Namespace, Labels: map[string]string{TenantLabel: t.Name}}})
	}
	return append(objs, &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: t.Name, Labels: t.Labels},
		Spec: identityv1alpha1.EntraTenantSpec{
			TenantID:      t.TenantID,
			Cloud:         identityv1alpha1.CloudCustom,
			AuthorityHost: h.GraphURL() + "/", // azidentity wants the authority with a slash
			GraphEndpoint: h.GraphURL(),
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID:  t.ClientID,
				SecretRef: identityv1alpha1.CredentialSecretReference{Name: t.SecretName(), Key: "clientSecret"},
			}},
			AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{TenantLabel: t.Name}},
			ChangeBudget:      identityv1alpha1.ChangeBudget{MaxDestructiveWritesPerHour: t.MaxDestructiveWritesPerHour},
		},
	})
}

func fillTenant(t *Tenant) {
	if t.TenantID == "" {
		t.TenantID = newGUID()
	}
	if t.ClientID == "" {
		t.ClientID = newGUID()
	}
	if t.ClientSecret == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		t.ClientSecret = hex.EncodeToString(b)
	}
}

func emulatorSeed(t *Tenant) graphemu.Seed {
	policy := graphemu.SMSPolicy{AllUsers: true}
	if t.SMSSignIn != nil {
		policy = *t.SMSSignIn
	}
	return graphemu.Seed{
		Tenants: []graphemu.Tenant{{ID: t.TenantID, SMSSignIn: policy}},
		Apps: []graphemu.SeedApp{{TenantID: t.TenantID, ClientID: t.ClientID, ClientSecret: t.ClientSecret,
			Permissions: permissionsOf(t)}},
	}
}

// permissionsOf is the app's permissions: the tenant's, or what phoneop asks for (docs/entra-app.md):
// phone methods, users, and who holds directory roles (the privileged-user guard).
func permissionsOf(t *Tenant) []string {
	if t.Permissions != nil {
		return t.Permissions
	}
	return []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll,
		graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}
}

// waitTenantReady polls the EntraTenant's Ready condition until it is True.
func (h *Harness) waitTenantReady(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last *metav1.Condition
	for {
		var et identityv1alpha1.EntraTenant
		if err := h.Client.Get(ctx, client.ObjectKey{Name: name}, &et); err == nil {
			last = meta.FindStatusCondition(et.Status.Conditions, identityv1alpha1.ConditionReady)
			if last != nil && last.Status == metav1.ConditionTrue {
				return nil
			}
		}
		if h.manager != nil {
			if err := h.manager.Running(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("EntraTenant %s not Ready in time (last Ready condition: %+v)", name, last)
		case <-tick.C:
		}
	}
}

func newGUID() string { return uuid.NewString() }
