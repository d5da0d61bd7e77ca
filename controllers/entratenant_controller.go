package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// tenantRecheck is how often a Ready tenant proves again that its credentials work (a token is
// cached by azidentity, so this costs a token request at most once per token lifetime).
const tenantRecheck = 10 * time.Minute

// EntraTenantReconciler reports whether phoneop can authenticate to a tenant. PhoneAuthMethods
// wait for their tenant to be Ready, so a broken credential shows up once, on the tenant, and
// costs no Graph calls per object.
type EntraTenantReconciler struct {
	client.Client
	Connector *tenantconn.Connector
	// Owns, when set, tells the tenants this manager's shard reconciles (internal/shard, --shard);
	// the others are left to their own shard's manager. Nil reconciles every tenant.
	Owns func(*identityv1alpha1.EntraTenant) bool
}

// Reconcile connects to the tenant and obtains a token.
func (r *EntraTenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tenant := &identityv1alpha1.EntraTenant{}
	if err := r.Get(ctx, req.NamespacedName, tenant); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.Owns != nil && !r.Owns(tenant) {
		return ctrl.Result{}, nil
	}
	before := tenant.DeepCopy()
	o := r.check(ctx, tenant)
	setReadiness(&tenant.Status.Conditions, tenant.Generation, o)
	if o.err == nil {
		tenant.Status.ObservedGeneration = tenant.Generation
	}
	if !equality.Semantic.DeepEqual(before.Status, tenant.Status) {
		if perr := r.Status().Patch(ctx, tenant, client.MergeFrom(before)); perr != nil {
			return ctrl.Result{}, errors.Join(o.err, ignoreConflict(perr))
		}
	}
	if o.ready {
		return ctrl.Result{RequeueAfter: tenantRecheck}, nil
	}
	return ctrl.Result{RequeueAfter: o.requeueAfter}, o.err
}

// check decides the tenant's Ready condition: a duplicate connection or credentials a person
// must fix are stalled (kstatus Failed, so GitOps tools stop waiting) and re-checked every
// minute; a failed API-server read is retried with backoff.
func (r *EntraTenantReconciler) check(ctx context.Context, tenant *identityv1alpha1.EntraTenant) *outcome {
	older, err := r.olderDuplicate(ctx, tenant)
	if err != nil {
		return kubernetesAPIFailed(err, "listing EntraTenants")
	}
	if older != "" {
		// Two connections to one directory would let two grants manage the same phones
		// without seeing each other's objects; the oldest connection wins.
		return stalledOn(identityv1alpha1.ReasonConflict, fmt.Sprintf("EntraTenant %q already connects tenant %s; grant more namespaces through its spec.allowedNamespaces instead of a second EntraTenant", older, tenant.Spec.TenantID), time.Minute)
	}
	conn, err := r.Connector.Reload(ctx, tenant)
	if err != nil {
		var credErr *tenantconn.ErrCredentials
		if errors.As(err, &credErr) {
			return stalledOn(cmp.Or(credErr.Reason, identityv1alpha1.ReasonCredentialsInvalid), credErr.Error(), time.Minute)
		}
		return kubernetesAPIFailed(err, "reading the tenant's credential Secret")
	}
	if err := conn.Verify(ctx); err != nil {
		r.Connector.Forget(tenant.UID)
		// azidentity's message can quote the authority's answer; keep only its type of failure.
		return stalledOn(identityv1alpha1.ReasonCredentialsInvalid,
			fmt.Sprintf("Getting a token for tenant %s failed; check the app registration's client id, credential and admin consent", tenant.Spec.TenantID), time.Minute)
	}
	return converged("phoneop obtained a Graph token for the tenant")
}

// olderDuplicate returns the name of an older EntraTenant for the same tenant id, if any.
func (r *EntraTenantReconciler) olderDuplicate(ctx context.Context, tenant *identityv1alpha1.EntraTenant) (string, error) {
	var list identityv1alpha1.EntraTenantList
	if err := r.List(ctx, &list); err != nil {
		return "", err
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID == tenant.UID || !strings.EqualFold(o.Spec.TenantID, tenant.Spec.TenantID) {
			continue
		}
		if o.CreationTimestamp.Before(&tenant.CreationTimestamp) ||
			o.CreationTimestamp.Equal(&tenant.CreationTimestamp) && o.Name < tenant.Name {
			return o.Name, nil
		}
	}
	return "", nil
}

// SetupWithManager watches EntraTenants and (metadata only) the credential Secrets in the
// operator's namespace, so that a rotated or newly created Secret is picked up at once.
func (r *EntraTenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.EntraTenant{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.tenantsUsingSecret), builder.OnlyMetadata).
		Named("entratenant").
		Complete(r)
}

// tenantsUsingSecret maps a Secret in the credentials namespace to the tenants it authenticates.
func (r *EntraTenantReconciler) tenantsUsingSecret(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != r.Connector.Namespace {
		return nil
	}
	var list identityv1alpha1.EntraTenantList
	if err := r.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing EntraTenants to requeue")
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if slices.Contains(credentialSecretNames(&list.Items[i]), o.GetName()) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// credentialSecretNames lists the Secrets a tenant's credentials read.
func credentialSecretNames(t *identityv1alpha1.EntraTenant) []string {
	var names []string
	for _, ref := range t.Spec.Credentials.SecretRefs() {
		names = append(names, ref.Name)
	}
	return names
}
