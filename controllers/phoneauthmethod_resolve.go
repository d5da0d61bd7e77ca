package controllers

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/ownership"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/privileged"
	"github.com/phoneop/phoneop/internal/shard"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// resolveTenant loads the EntraTenant, checks it is Ready and grants this namespace and user,
// and connects. A refusal makes no Graph call at all.
func (r *PhoneAuthMethodReconciler) resolveTenant(ctx context.Context, s *scope) *outcome {
	pam := s.pam
	if identityv1alpha1.IsPaused(pam) {
		return pausedBy(fmt.Sprintf("The object carries %s: \"true\", so phoneop makes no Graph call for it; remove the annotation to resume", identityv1alpha1.AnnotationPaused))
	}
	tenant := &identityv1alpha1.EntraTenant{}
	if err := r.Get(ctx, types.NamespacedName{Name: pam.Spec.TenantRef.Name}, tenant); err != nil {
		if apierrors.IsNotFound(err) {
			return s.notOursBecause(waitingFor(identityv1alpha1.ReasonTenantNotReady,
				fmt.Sprintf("EntraTenant %q does not exist; a cluster admin must create it", pam.Spec.TenantRef.Name), slowRetry))
		}
		return kubernetesAPIFailed(err, "reading the EntraTenant")
	}
	s.tenant = tenant
	if !shard.SameShard(pam.Labels, tenant.Labels) {
		return s.notOursBecause(stalledOn(identityv1alpha1.ReasonWrongShard, wrongShardMessage(tenant), 0))
	}
	if identityv1alpha1.IsPaused(tenant) {
		return pausedBy(fmt.Sprintf("EntraTenant %q carries %s: \"true\", so phoneop makes no Graph call for its objects; remove the annotation to resume", tenant.Name, identityv1alpha1.AnnotationPaused))
	}
	labels, err := r.namespaceLabels(ctx, pam.Namespace)
	if err != nil {
		return kubernetesAPIFailed(err, "reading the namespace's labels")
	}
	s.namespaceLabels = labels
	if o := r.checkGrant(s); o != nil {
		return o
	}
	if ready := meta.FindStatusCondition(tenant.Status.Conditions, identityv1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue {
		return waitingFor(identityv1alpha1.ReasonTenantNotReady, fmt.Sprintf("EntraTenant %q is not Ready; see its conditions", tenant.Name), slowRetry)
	}
	conn, err := r.Connector.Connect(ctx, tenant)
	if err != nil {
		return connectOutcome(err)
	}
	s.conn = conn
	return nil
}

// wrongShardMessage says which shard label the object must carry: its tenant's.
func wrongShardMessage(tenant *identityv1alpha1.EntraTenant) string {
	if v, ok := tenant.Labels[shard.Label]; ok {
		return fmt.Sprintf("EntraTenant %q belongs to shard %q and its objects follow it: label this object %s=%s, or no manager writes it", tenant.Name, v, shard.Label, v)
	}
	return fmt.Sprintf("EntraTenant %q belongs to the default shard and its objects follow it: remove the %s label from this object, or no manager writes it", tenant.Name, shard.Label)
}

// checkGrant applies the tenant's namespace and user scope with what is known so far.
func (r *PhoneAuthMethodReconciler) checkGrant(s *scope) *outcome {
	in := tenantconn.GrantInput{Tenant: s.tenant, Namespace: s.pam.Namespace, NamespaceLabels: s.namespaceLabels, User: s.pam.Spec.User,
		UserPrincipalName: s.user.UserPrincipalName, UserID: s.user.ID}
	if msg, failed := tenantconn.EvaluateGrant(in); failed {
		return s.notOursBecause(stalledOn(identityv1alpha1.ReasonForbidden, msg, slowRetry))
	}
	return nil
}

// desiredNumber reads the desired number from the spec or the referenced Secret.
func (r *PhoneAuthMethodReconciler) desiredNumber(ctx context.Context, s *scope) *outcome {
	o := r.readDesiredNumber(ctx, s)
	s.numberChecked = true
	s.fixedLine = o == nil && isFixedLineMobile(s.pam.Spec.PhoneType, s.number)
	return o
}

// isFixedLineMobile reports a mobile or alternateMobile whose number libphonenumber classifies
// as a fixed line: Graph accepts it, SMS to it fails, so it is reported but not blocked.
func isFixedLineMobile(t identityv1alpha1.PhoneType, number string) bool {
	if t == identityv1alpha1.PhoneTypeOffice {
		return false
	}
	n, err := phone.Parse(phone.Normalize(number))
	return err == nil && phone.IsFixedLine(n)
}

// readDesiredNumber sets s.number from the spec or the Secret it names.
func (r *PhoneAuthMethodReconciler) readDesiredNumber(ctx context.Context, s *scope) *outcome {
	from := s.pam.Spec.PhoneNumberFrom
	if from == nil {
		s.number = s.pam.Spec.PhoneNumber
		return nil
	}
	var secret corev1.Secret
	err := r.SecretReader.Get(ctx, types.NamespacedName{Namespace: s.pam.Namespace, Name: from.SecretKeyRef.Name}, &secret)
	if apierrors.IsNotFound(err) {
		return stalledOn(identityv1alpha1.ReasonSecretNotFound,
			fmt.Sprintf("Secret %q named by spec.phoneNumberFrom does not exist; create it (phoneop reconciles when it appears)", from.SecretKeyRef.Name), 0)
	}
	if err != nil {
		return kubernetesAPIFailed(err, "reading the phone number Secret")
	}
	value, ok := secret.Data[from.SecretKeyRef.Key]
	if !ok {
		return stalledOn(identityv1alpha1.ReasonSecretNotFound,
			fmt.Sprintf("Secret %q has no key %q named by spec.phoneNumberFrom; add it", from.SecretKeyRef.Name, from.SecretKeyRef.Key), 0)
	}
	s.number = strings.TrimSpace(string(value))
	if _, err := phone.Parse(phone.Normalize(s.number)); err != nil {
		// phone's errors say why (too short, invalid country code, …) and never hold the number.
		return stalledOn(identityv1alpha1.ReasonInvalidNumber,
			fmt.Sprintf("The number in Secret %q key %q is not a valid phone number (%v); write it as '+<country code> <number>' or E.164 and fix the Secret", from.SecretKeyRef.Name, from.SecretKeyRef.Key, err), 0)
	}
	return nil
}

// resolveUser finds the user's object id and UPN: from the process's cache, else with one Graph
// lookup of spec.userId, or of spec.user when no id is pinned in the spec. The object is bound
// to the first person it resolved to (status.userId): a later resolution to anyone else stops
// it (UserChanged) before any write or delete. status.userId is only ever compared, never
// acted on: status is writable by anyone who may patch it, so an edited value can at most stop
// this object. The grant is then re-checked with the resolved id and UPN.
func (r *PhoneAuthMethodReconciler) resolveUser(ctx context.Context, s *scope) *outcome {
	pam, tenantID := s.pam, s.tenant.Spec.TenantID
	lookup := userLookupKey(pam)
	u, ok := r.Users.Get(tenantID, lookup)
	if !ok {
		r.fillUsers(ctx, s)
		u, ok = r.Users.Get(tenantID, lookup)
	}
	if !ok {
		var err error
		u, err = s.conn.Client.GetUser(ctx, lookup)
		if err != nil {
			if graph.IsNotFound(err) {
				s.graphErr = err
				return s.notOursBecause(waitingFor(identityv1alpha1.ReasonUserNotFound,
					fmt.Sprintf("Graph has no user %q (a new user can take minutes to replicate); phoneop retries", lookup), userNotFoundRetry))
			}
			return s.graphFailed(err, "resolving the user")
		}
		if u.ID == "" || u.UserPrincipalName == "" {
			// Never cached: an answer without identity cannot be bound, compared or scoped.
			return s.notOursBecause(stalledOn(identityv1alpha1.ReasonUserNotFound,
				fmt.Sprintf("Graph answered the lookup of user %q without an object id or a userPrincipalName, so phoneop cannot tell who it is and writes nothing; check the user in Entra", lookup), slowRetry))
		}
		r.Users.Put(tenantID, u)
		s.userFresh = true
	}
	if bound := boundUserID(pam); bound != "" && !strings.EqualFold(bound, u.ID) {
		return s.notOursBecause(userChanged(pam, bound, u.ID))
	}
	s.user = u
	pam.Status.UserID = u.ID
	return r.checkGrant(s)
}

// fillUsers pages the tenant's directory into the user cache when its objects name enough users
// for that to cost fewer Graph calls than a lookup each (usercache.Cache.Fill). A failed fill
// costs only the lookups it would have saved.
func (r *PhoneAuthMethodReconciler) fillUsers(ctx context.Context, s *scope) {
	if s.conn.Users == nil {
		return
	}
	_, err := r.Users.Fill(ctx, s.tenant.Spec.TenantID, r.UserIndex.Keys(s.pam.Spec.TenantRef.Name),
		func(ctx context.Context, page func([]graph.User) error) error {
			return s.conn.Users.ListUsers(ctx, graph.UserQuery{}, page)
		})
	if err != nil {
		ctrl.LoggerFrom(ctx).Info("listing the tenant's users failed; looking users up one by one", "requestID", requestIDOf(err))
	}
}

// checkUserKind refuses a guest or a privileged user (one who holds an Entra directory role,
// active or eligible, directly or through a role-assignable group) unless the tenant's
// spec.userScope allows them; internal/privileged decides. It runs before any phone-method
// call, on delete too (a refused object releases its finalizer without touching Graph). The
// tenant's privileged set is read only when needed, and cached per tenant.
func (r *PhoneAuthMethodReconciler) checkUserKind(ctx context.Context, s *scope) *outcome {
	in := privileged.Input{Tenant: s.tenant.Name, Scope: s.tenant.Spec.UserScope, User: s.user}
	if _, _, refused := privileged.Decide(in); !refused && privileged.NeedsPrivilegedSet(in.Scope) {
		in.Privileged, in.LoadErr = r.privilegedSet(ctx, s)
		if in.LoadErr != nil && graph.ClassOf(in.LoadErr) != graph.Forbidden {
			return s.graphFailed(in.LoadErr, "reading who holds directory roles")
		}
	}
	if reason, msg, refused := privileged.Decide(in); refused {
		return s.notOursBecause(stalledOn(reason, msg, slowRetry))
	}
	return nil
}

// privilegedSet returns the tenant's privileged users. A load refused for a missing permission
// is also recorded as a Warning on the EntraTenant, once per load.
func (r *PhoneAuthMethodReconciler) privilegedSet(ctx context.Context, s *scope) (privileged.Set, error) {
	if r.Privileged == nil || s.conn.Roles == nil {
		return nil, &graph.Error{Op: "listRoleAssignments", Class: graph.Forbidden, Code: "noRoleReader"}
	}
	set, loaded, err := r.Privileged.Get(ctx, s.conn.TenantID, s.conn.Roles)
	if loaded && graph.ClassOf(err) == graph.Forbidden {
		r.Recorder.Eventf(s.tenant, nil, corev1.EventTypeWarning, identityv1alpha1.ReasonPrivilegedUsersUnknown, "CheckPrivilegedUsers",
			"phoneop cannot read who holds directory roles (%v), so it refuses every user of this tenant; grant the app RoleManagement.Read.Directory and GroupMember.Read.All, or set spec.userScope.allowPrivilegedUsers", err)
	}
	return set, err
}

// userLookupKey is how the user is looked up in Graph: by the pinned object id when the spec
// has one (stable across UPN renames and reuse), else by spec.user.
func userLookupKey(pam *identityv1alpha1.PhoneAuthMethod) string {
	return cmp.Or(pam.Spec.UserID, pam.Spec.User)
}

// boundUserID is the person the object is bound to: spec.userId when set (a person pinned or
// confirmed it), else the id phoneop first resolved (status.userId); "" before the first
// resolution.
func boundUserID(pam *identityv1alpha1.PhoneAuthMethod) string {
	return cmp.Or(pam.Spec.UserID, pam.Status.UserID)
}

// userChanged: spec.user now names another person than the one the object is bound to.
func userChanged(pam *identityv1alpha1.PhoneAuthMethod, bound, resolved string) *outcome {
	return stalledOn(identityv1alpha1.ReasonUserChanged,
		fmt.Sprintf("spec.user %q now resolves to Entra object id %s, not to %s that this object is bound to (a reused or changed UPN?), so phoneop writes and deletes nothing; if %s is the intended person set spec.userId to it, otherwise delete this object",
			pam.Spec.User, resolved, bound, resolved), slowRetry)
}

// checkOwner makes sure no other object owns the same (tenant, user, phoneType)
// (internal/ownership); every other object gets Conflict and writes nothing. The owner records
// its claim the first time it wins, so that it keeps the phone against objects of namespaces
// granted later.
func (r *PhoneAuthMethodReconciler) checkOwner(ctx context.Context, s *scope) *outcome {
	owner, err := r.slotOwner(ctx, s)
	if err != nil {
		return kubernetesAPIFailed(err, "listing the user's PhoneAuthMethods")
	}
	if owner != nil && owner.UID != s.pam.UID {
		return s.notOursBecause(stalledOn(identityv1alpha1.ReasonConflict, ownership.ConflictMessage(s.pam, owner), slowRetry))
	}
	if s.pam.Status.ClaimedAt == nil {
		now := metav1.NewTime(r.now().Truncate(time.Second))
		s.pam.Status.ClaimedAt = &now
	}
	return nil
}

// slotOwner returns the owner among the objects of granted namespaces that claim the object's
// slot (internal/ownership): a namespace the tenant does not grant can neither own a phone nor
// block one.
func (r *PhoneAuthMethodReconciler) slotOwner(ctx context.Context, s *scope) (*identityv1alpha1.PhoneAuthMethod, error) {
	claimants, err := r.objectsOfUser(ctx, s.pam)
	if err != nil {
		return nil, err
	}
	return ownership.Owner(s.pam, claimants, func(namespace string) (bool, error) {
		return r.namespaceGranted(ctx, s.tenant, namespace)
	})
}

// namespaceGranted reports whether the tenant's allowedNamespaces selects the namespace, from
// the cached namespace metadata.
func (r *PhoneAuthMethodReconciler) namespaceGranted(ctx context.Context, tenant *identityv1alpha1.EntraTenant, namespace string) (bool, error) {
	labels, err := r.namespaceLabels(ctx, namespace)
	if err != nil {
		return false, client.IgnoreNotFound(err)
	}
	_, refused := tenantconn.NamespaceAllowed(tenantconn.GrantInput{Tenant: tenant, Namespace: namespace, NamespaceLabels: labels})
	return !refused, nil
}

// namespaceLabels reads a namespace's labels from the cached namespace metadata.
func (r *PhoneAuthMethodReconciler) namespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		return nil, err
	}
	return ns.Labels, nil
}
