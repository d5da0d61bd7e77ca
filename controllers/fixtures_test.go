package controllers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

const (
	eventually = 30 * time.Second
	poll       = 50 * time.Millisecond
)

var fixtureSeq atomic.Int64

// fixture is one test's world: an emulated tenant with an app, a granted EntraTenant, and a
// namespace the tenant allows.
type fixture struct {
	t         *testing.T
	g         *WithT
	ctx       context.Context
	tenant    string // EntraTenant name
	tenantID  string
	namespace string
}

// fixtureOption changes the emulated tenant, the EntraTenant's spec or the app's permissions
// before they are created.
type fixtureOption func(*graphemu.Tenant, *identityv1alpha1.EntraTenantSpec, *graphemu.App)

// withSMSPolicyFor limits the tenant's SMS sign-in policy to the given users (default: all).
func withSMSPolicyFor(users ...string) fixtureOption {
	return func(t *graphemu.Tenant, _ *identityv1alpha1.EntraTenantSpec, _ *graphemu.App) {
		t.SMSSignIn = graphemu.SMSPolicy{IncludedUsers: users}
	}
}

// withChangeBudget sets the tenant's destructive writes per rolling hour.
func withChangeBudget(n int32) fixtureOption {
	return func(_ *graphemu.Tenant, spec *identityv1alpha1.EntraTenantSpec, _ *graphemu.App) {
		spec.ChangeBudget.MaxDestructiveWritesPerHour = &n
	}
}

func withUserScope(scope identityv1alpha1.UserScope) fixtureOption {
	return func(_ *graphemu.Tenant, spec *identityv1alpha1.EntraTenantSpec, _ *graphemu.App) {
		spec.UserScope = scope
	}
}

// withoutPermission removes an application permission from the fixture's app.
func withoutPermission(p string) fixtureOption {
	return func(_ *graphemu.Tenant, _ *identityv1alpha1.EntraTenantSpec, app *graphemu.App) {
		app.Permissions = slices.DeleteFunc(app.Permissions, func(have string) bool { return have == p })
	}
}

// newFixture creates the tenant in the emulator and in the cluster and waits for it to be Ready.
func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	requireSuite(t)
	n := fixtureSeq.Add(1)
	f := &fixture{t: t, g: NewWithT(t), ctx: context.Background(),
		tenant: fmt.Sprintf("tenant-%d", n), tenantID: uuid.NewString(), namespace: fmt.Sprintf("team-%d", n)}
	et := graphemu.Tenant{ID: f.tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}}
	spec := identityv1alpha1.EntraTenantSpec{
		TenantID: f.tenantID, Cloud: identityv1alpha1.CloudCustom,
		AuthorityHost: emuServer.URL + "/", GraphEndpoint: emuServer.URL,
		Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
			ClientID: uuid.NewString(), SecretRef: identityv1alpha1.CredentialSecretReference{Name: f.tenant + "-app", Key: "clientSecret"}}},
		AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"phoneop.dev/tenant": f.tenant}},
	}
	// The privileged-user guard reads directory roles (RoleManagement.Read.Directory) and the
	// members of role-assignable groups (GroupMember.Read.All).
	app := graphemu.App{TenantID: f.tenantID, ClientID: spec.Credentials.ClientSecret.ClientID, ClientSecret: testClientSecret,
		Permissions: []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll,
			graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}}
	for _, o := range opts {
		o(&et, &spec, &app)
	}
	f.g.Expect(emu.AddTenant(et)).To(Succeed())
	f.g.Expect(emu.AddApp(app)).To(Succeed())
	f.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: f.tenant + "-app", Namespace: credentialsNamespace},
		StringData: map[string]string{"clientSecret": testClientSecret}})
	f.create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.namespace, Labels: map[string]string{"phoneop.dev/tenant": f.tenant}}})
	f.create(&identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: f.tenant}, Spec: spec})
	f.g.Eventually(func() bool {
		var got identityv1alpha1.EntraTenant
		_ = k8s.Get(f.ctx, client.ObjectKey{Name: f.tenant}, &got)
		return meta.IsStatusConditionTrue(got.Status.Conditions, identityv1alpha1.ConditionReady)
	}, eventually, poll).Should(BeTrue(), "EntraTenant %s never became Ready", f.tenant)
	return f
}

// withT returns the fixture bound to a subtest, so that the subtest's assertions fail the
// subtest and not its parent.
func (f *fixture) withT(t *testing.T) *fixture {
	sub := *f
	sub.t, sub.g = t, NewWithT(t)
	return &sub
}

// create creates obj and deletes it when the test ends, so that no object of a finished test
// keeps retrying (and calling Graph) while later tests run. Namespaces stay: envtest runs no
// namespace controller, so a deleted namespace would only hang in Terminating.
func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	f.g.Expect(k8s.Create(f.ctx, obj)).To(Succeed())
	if _, isNamespace := obj.(*corev1.Namespace); !isNamespace {
		cleanUp(f.t, obj)
	}
}

// cleanUp deletes obj when the test ends and waits until it is gone; a PhoneAuthMethod is gone
// once phoneop released its finalizer.
func cleanUp(t *testing.T, obj client.Object) {
	t.Cleanup(func() {
		if err := k8s.Delete(context.Background(), obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleaning up %T %s: %v", obj, obj.GetName(), err)
			return
		}
		waitGone(t, obj)
	})
}

// waitGone waits until obj no longer exists.
func waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
		return apierrors.IsNotFound(err)
	}, eventually, poll).Should(BeTrue(), "%T %s was not deleted", obj, obj.GetName())
}

// count is graphemu.TenantCount for the fixture's tenant: other tests' objects never add to it.
func (f *fixture) count(method, route string) int {
	return emu.TenantCount(f.tenantID, method, route)
}

// resetStats zeroes the fixture's tenant's call counts.
func (f *fixture) resetStats() { emu.ResetTenantStats(f.tenantID) }

// stats returns the fixture's tenant's call counts, for logs.
func (f *fixture) stats() []graphemu.Stat { return emu.TenantStats(f.tenantID) }

// graphWrites counts the tenant's Graph write calls (token requests excluded).
func (f *fixture) graphWrites() int {
	return f.count(http.MethodPost, "") + f.count(http.MethodPatch, "") + f.count(http.MethodDelete, "") -
		f.count(http.MethodPost, graphemu.RouteToken)
}

// addUser adds a user to the emulated tenant and returns its object id.
func (f *fixture) addUser(upn string) string {
	f.t.Helper()
	id := uuid.NewString()
	f.g.Expect(emu.AddUser(graphemu.User{TenantID: f.tenantID, ID: id, UserPrincipalName: upn})).To(Succeed())
	return id
}

// pam builds a PhoneAuthMethod in the fixture's namespace.
func (f *fixture) pam(name, user string, typ identityv1alpha1.PhoneType, number string, mutate ...func(*identityv1alpha1.PhoneAuthMethod)) *identityv1alpha1.PhoneAuthMethod {
	p := &identityv1alpha1.PhoneAuthMethod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.namespace},
		Spec: identityv1alpha1.PhoneAuthMethodSpec{TenantRef: identityv1alpha1.TenantReference{Name: f.tenant},
			User: user, PhoneType: typ, PhoneNumber: number},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func smsEnabled(p *identityv1alpha1.PhoneAuthMethod) {
	v := identityv1alpha1.SMSSignInEnabled
	p.Spec.SMSSignIn = &v
}

func deletionPolicyDelete(p *identityv1alpha1.PhoneAuthMethod) {
	p.Spec.DeletionPolicy = identityv1alpha1.DeletionPolicyDelete
}

// createInUngrantedNamespace creates a namespace the tenant does not grant (suffix after the
// fixture's namespace) and a mobile in it, and waits until the object is refused (Forbidden).
func (f *fixture) createInUngrantedNamespace(suffix, name, user, number string) (*corev1.Namespace, *identityv1alpha1.PhoneAuthMethod) {
	f.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.namespace + "-" + suffix}}
	f.create(ns)
	p := f.pam(name, user, identityv1alpha1.PhoneTypeMobile, number, func(p *identityv1alpha1.PhoneAuthMethod) { p.Namespace = ns.Name })
	f.create(p)
	f.waitForReady(p, metav1.ConditionFalse, identityv1alpha1.ReasonForbidden)
	return ns, p
}

// createReady creates an object and waits until it is Ready (Synced) for its generation.
func (f *fixture) createReady(p *identityv1alpha1.PhoneAuthMethod) {
	f.t.Helper()
	f.create(p)
	f.waitForReady(p, metav1.ConditionTrue, identityv1alpha1.ReasonSynced)
}

// editInGraph changes a user's phone behind phoneop's back, as an admin in the Entra portal
// would, and drops the reconciler's cached read so that the next pass sees the change.
func (f *fixture) editInGraph(userID, phoneType, number string) {
	f.t.Helper()
	f.g.Expect(emu.SetPhoneMethod(f.tenantID, userID, graphemu.PhoneMethod{PhoneType: phoneType, PhoneNumber: number})).To(Succeed())
	reconciler.Observer.Invalidate(f.tenantID, userID)
}

// update changes an object's spec and waits until the manager's cache (which the tests read
// through) shows the new generation, so that no later check passes on the stale object.
func (f *fixture) update(p *identityv1alpha1.PhoneAuthMethod, mutate func(*identityv1alpha1.PhoneAuthMethod)) {
	f.t.Helper()
	var latest *identityv1alpha1.PhoneAuthMethod
	// The manager writes status concurrently, so the cached copy may be one write behind:
	// retry on a conflict, as kubectl edit would.
	f.g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest = f.get(p)
		mutate(latest)
		return k8s.Update(f.ctx, latest)
	})).To(Succeed())
	f.g.Eventually(func() bool {
		got := &identityv1alpha1.PhoneAuthMethod{}
		err := k8s.Get(f.ctx, client.ObjectKeyFromObject(p), got)
		// Gone is fine too: the update may have released a deleting object's finalizer.
		return apierrors.IsNotFound(err) || err == nil && got.Generation == latest.Generation
	}, eventually, poll).Should(BeTrue())
}

// annotate sets (or, with value "", removes) an annotation, as `kubectl annotate` would.
func (f *fixture) annotate(obj client.Object, key, value string) {
	f.t.Helper()
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	if value == "" {
		delete(annotations, key)
	} else {
		annotations[key] = value
	}
	obj.SetAnnotations(annotations)
	f.g.Expect(k8s.Patch(f.ctx, obj, patch)).To(Succeed())
}

// entraTenant returns the fixture's EntraTenant, for edits.
func (f *fixture) entraTenant() *identityv1alpha1.EntraTenant {
	return &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: f.tenant}}
}

// waitForSynced waits until the object's Synced condition has reason, for the current
// generation, and returns the object.
func (f *fixture) waitForSynced(p *identityv1alpha1.PhoneAuthMethod, reason string) *identityv1alpha1.PhoneAuthMethod {
	f.t.Helper()
	return f.waitForCondition(p, identityv1alpha1.ConditionSynced, "", reason)
}

// get re-reads an object.
func (f *fixture) get(p *identityv1alpha1.PhoneAuthMethod) *identityv1alpha1.PhoneAuthMethod {
	f.t.Helper()
	got := &identityv1alpha1.PhoneAuthMethod{}
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
	return got
}

// waitForReady waits until the object's Ready condition has status and reason, for the
// current generation, and returns the object.
func (f *fixture) waitForReady(p *identityv1alpha1.PhoneAuthMethod, want metav1.ConditionStatus, reason string) *identityv1alpha1.PhoneAuthMethod {
	f.t.Helper()
	return f.waitForCondition(p, identityv1alpha1.ConditionReady, want, reason)
}

// waitForCondition waits until the object's condition of type condType has reason (and
// status want, unless "") for the current generation, checks the kstatus invariants, and
// returns the object.
func (f *fixture) waitForCondition(p *identityv1alpha1.PhoneAuthMethod, condType string, want metav1.ConditionStatus, reason string) *identityv1alpha1.PhoneAuthMethod {
	f.t.Helper()
	var got *identityv1alpha1.PhoneAuthMethod
	f.g.Eventually(func(g Gomega) {
		got = &identityv1alpha1.PhoneAuthMethod{}
		g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
		c := meta.FindStatusCondition(got.Status.Conditions, condType)
		g.Expect(c).NotTo(BeNil(), "no %s condition yet", condType)
		g.Expect(c.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(c.Reason).To(Equal(reason), "%s reason (message: %s)", condType, c.Message)
		if want != "" {
			g.Expect(c.Status).To(Equal(want))
		}
	}, eventually, poll).Should(Succeed())
	assertKstatusInvariants(f.t, got)
	return got
}

// graphMethod returns the user's method of a type as the emulator holds it, or nil.
func (f *fixture) graphMethod(userID string, typ identityv1alpha1.PhoneType) *graphemu.PhoneMethod {
	f.t.Helper()
	methods, err := emu.PhoneMethods(f.tenantID, userID)
	f.g.Expect(err).NotTo(HaveOccurred())
	for i := range methods {
		if methods[i].PhoneType == string(typ) {
			return &methods[i]
		}
	}
	return nil
}

// kstatusOf computes the object's kstatus the way Flux and kubectl wait do.
func kstatusOf(t *testing.T, p *identityv1alpha1.PhoneAuthMethod) status.Status {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	if err != nil {
		t.Fatal(err)
	}
	return res.Status
}

// assertKstatusInvariants checks the rules Flux's conditions/check asserts: Ready is present,
// Reconciling and Stalled never both, Ready is False when Stalled, and a True Ready belongs to
// the current generation.
func assertKstatusInvariants(t *testing.T, p *identityv1alpha1.PhoneAuthMethod) {
	t.Helper()
	conds := p.Status.Conditions
	ready := meta.FindStatusCondition(conds, identityv1alpha1.ConditionReady)
	if ready == nil {
		t.Fatalf("Ready condition missing")
	}
	reconciling := meta.FindStatusCondition(conds, identityv1alpha1.ConditionReconciling)
	stalled := meta.FindStatusCondition(conds, identityv1alpha1.ConditionStalled)
	if reconciling != nil && stalled != nil {
		t.Errorf("Reconciling and Stalled are both present")
	}
	for _, c := range []*metav1.Condition{reconciling, stalled} {
		if c != nil && c.Status != metav1.ConditionTrue {
			t.Errorf("%s is present but not True", c.Type)
		}
	}
	if stalled != nil && ready.Status != metav1.ConditionFalse {
		t.Errorf("Stalled but Ready is %s", ready.Status)
	}
	if ready.Status == metav1.ConditionTrue && p.Status.ObservedGeneration != p.Generation {
		t.Errorf("Ready for generation %d but observedGeneration is %d", p.Generation, p.Status.ObservedGeneration)
	}
	for _, c := range conds {
		if strings.Contains(c.Message, "5550") {
			t.Errorf("condition %s leaks a phone number: %s", c.Type, c.Message)
		}
	}
}

// events returns the reasons of the events recorded for an object.
func (f *fixture) eventReasons(p *identityv1alpha1.PhoneAuthMethod) []string {
	f.t.Helper()
	var list corev1.EventList
	var reasons []string
	// events.k8s.io events are also served through the core/v1 API.
	f.g.Expect(k8s.List(f.ctx, &list, client.InNamespace(p.Namespace))).To(Succeed())
	for _, e := range list.Items {
		if e.InvolvedObject.Name == p.Name {
			reasons = append(reasons, e.Reason)
			if strings.Contains(e.Message, "5550") {
				f.t.Errorf("event %s leaks a phone number: %s", e.Reason, e.Message)
			}
		}
	}
	return reasons
}
