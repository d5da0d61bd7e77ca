/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package cluster

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// installNamespace is where both installs put the manager (config/default's and the chart's
// documented namespace).
const installNamespace = "phoneop-system"

// kube is a controller-runtime client for the cluster's admin.
func kube(t *testing.T) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// kubectl runs kubectl as the cluster admin with stdin, failing the test on error.
func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectlErr(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlErr(stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfigPath()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// poll calls cond every 250 ms until it returns true or the timeout passes; the last error
// cond returned is in the failure message.
func poll(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		ok, err := cond()
		if ok {
			return time.Since(start)
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
	return 0
}

// emulator is the Graph emulator, served on the node's address where pods reach it.
type emulator struct {
	*graphemu.Emulator
	URL    string
	CAPEM  []byte
	server *http.Server
	tokens *tokenOutcomes
}

// tokenOutcomes counts the token endpoint's answers by tenant and outcome: "issued", or the
// AADSTS code of a refusal, read from the response Entra-style (error_codes).
type tokenOutcomes struct {
	mu     sync.Mutex
	counts map[string]map[string]int // tenant id -> outcome -> count
}

func (o *tokenOutcomes) get(tenantID string) map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.counts[tenantID])
}

// wrap records the outcome of each token request passing through next.
func (o *tokenOutcomes) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenantID, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if rest != "oauth2/v2.0/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var answer struct {
			ErrorCodes []int `json:"error_codes"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		outcome := "issued"
		if rec.Code != http.StatusOK {
			outcome = fmt.Sprintf("HTTP %d", rec.Code)
			if len(answer.ErrorCodes) > 0 {
				outcome = fmt.Sprintf("AADSTS%d", answer.ErrorCodes[0])
			}
		}
		o.mu.Lock()
		if o.counts[tenantID] == nil {
			o.counts[tenantID] = map[string]int{}
		}
		o.counts[tenantID][outcome]++
		o.mu.Unlock()
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// startEmulator serves a new emulator over TLS on nodeIP (a free port) with a certificate for
// that address. It trusts the cluster's CA for the service-account issuer's discovery, so
// federated credentials naming the cluster's issuer verify its tokens.
func startEmulator(t *testing.T) *emulator {
	t.Helper()
	clusterCA, err := os.ReadFile(filepath.Join(clusterDir(), "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(clusterCA)
	// Graph's documented throttling stays on, as the manager meets it in production.
	e := graphemu.New(graphemu.Options{
		IssuerClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	})
	cert, caPEM := servingCert(t, nodeIP)
	ln, err := net.Listen("tcp", net.JoinHostPort(nodeIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := &tokenOutcomes{counts: map[string]map[string]int{}}
	srv := &http.Server{Handler: tokens.wrap(e), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return &emulator{Emulator: e, URL: "https://" + ln.Addr().String(), CAPEM: caPEM, server: srv, tokens: tokens}
}

// servingCert is a self-signed P-256 certificate for ip, and its PEM (the CA users give the
// manager).
func servingCert(t *testing.T, ip string) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "graph-emulator"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// creates is how many phone methods the emulator created (POSTs answered 201): a duplicate
// create shows up as more creates than objects.
func (e *emulator) creates() int {
	n := 0
	for _, s := range e.Stats() {
		if s.Method == http.MethodPost && s.Route == graphemu.RoutePhoneList && s.Status == http.StatusCreated {
			n += s.Count
		}
	}
	return n
}

func guid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// tenant is one Entra tenant in the emulator and its objects in the cluster.
type tenant struct {
	Name, TenantID, ClientID string
	// Secret is the client secret; "" for workload identity.
	Secret string
	// Namespace holds its PhoneAuthMethods (labelled for the tenant).
	Namespace string
}

const tenantLabel = "phoneop.dev/tenant"

// newTenant registers a tenant with a secret app and users user0..users-1 in the emulator.
// appPermissions are what docs/entra-app.md asks for: phone methods, users, and who holds
// directory roles (the privileged-user guard fails closed without them).
var appPermissions = []string{graphemu.PermAuthMethodReadWriteAll, graphemu.PermUserReadAll,
	graphemu.PermRoleManagementReadDirectory, graphemu.PermGroupMemberReadAll}

func newTenant(t *testing.T, e *emulator, name string, users int) *tenant {
	t.Helper()
	tn := &tenant{Name: name, TenantID: guid(), ClientID: guid(), Secret: hex.EncodeToString([]byte(guid()))[:32], Namespace: name + "-apps"}
	must(t, e.AddTenant(graphemu.Tenant{ID: tn.TenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}}))
	must(t, e.AddApp(graphemu.App{TenantID: tn.TenantID, ClientID: tn.ClientID, ClientSecret: tn.Secret,
		Permissions: appPermissions}))
	for i := range users {
		must(t, e.AddUser(graphemu.User{TenantID: tn.TenantID, ID: guid(), UserPrincipalName: tn.upn(i)}))
	}
	return tn
}

func (tn *tenant) upn(i int) string { return fmt.Sprintf("user%d@%s.example.com", i, tn.Name) }

// create makes the tenant's Secret (if any), namespace and EntraTenant.
func (tn *tenant) create(t *testing.T, c client.Client, e *emulator) {
	t.Helper()
	ctx := context.Background()
	creds := identityv1alpha1.TenantCredentials{WorkloadIdentity: &identityv1alpha1.WorkloadIdentityCredential{ClientID: tn.ClientID}}
	if tn.Secret != "" {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tn.Name + "-graph-app", Namespace: installNamespace},
			StringData: map[string]string{"clientSecret": tn.Secret}}
		must(t, client.IgnoreAlreadyExists(c.Create(ctx, secret)))
		creds = identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: tn.ClientID,
			SecretRef: identityv1alpha1.CredentialSecretReference{Name: secret.Name, Key: "clientSecret"}}}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.Namespace, Labels: map[string]string{tenantLabel: tn.Name}}}
	must(t, client.IgnoreAlreadyExists(c.Create(ctx, ns)))
	et := &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: tn.Name},
		Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: tn.TenantID, Cloud: identityv1alpha1.CloudCustom,
			AuthorityHost: e.URL + "/", GraphEndpoint: e.URL, Credentials: creds,
			AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{tenantLabel: tn.Name}},
		},
	}
	must(t, client.IgnoreAlreadyExists(c.Create(ctx, et)))
}

// createMethods creates PhoneAuthMethods for users from..to-1 (mobile, Orphan: removing the
// object leaves Graph alone, so a test's cleanup never races the manager's uninstall).
func (tn *tenant) createMethods(t *testing.T, c client.Client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		pam := &identityv1alpha1.PhoneAuthMethod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("user%d-mobile", i), Namespace: tn.Namespace},
			Spec: identityv1alpha1.PhoneAuthMethodSpec{
				TenantRef: identityv1alpha1.TenantReference{Name: tn.Name}, User: tn.upn(i),
				PhoneType: identityv1alpha1.PhoneTypeMobile, PhoneNumber: fmt.Sprintf("+1 555555%04d", i),
				DeletionPolicy: identityv1alpha1.DeletionPolicyOrphan,
			},
		}
		must(t, client.IgnoreAlreadyExists(c.Create(context.Background(), pam)))
	}
}

// readyMethods counts the tenant's PhoneAuthMethods whose Ready condition is True.
func (tn *tenant) readyMethods(c client.Client) (int, error) {
	var list identityv1alpha1.PhoneAuthMethodList
	if err := c.List(context.Background(), &list, client.InNamespace(tn.Namespace)); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range list.Items {
		if meta.IsStatusConditionTrue(p.Status.Conditions, "Ready") {
			n++
		}
	}
	return n, nil
}

// waitConverged waits until want of the tenant's PhoneAuthMethods are Ready.
func (tn *tenant) waitConverged(t *testing.T, c client.Client, want int, timeout time.Duration) time.Duration {
	t.Helper()
	return poll(t, timeout, fmt.Sprintf("%d PhoneAuthMethods of %s Ready", want, tn.Name), func() (bool, error) {
		n, err := tn.readyMethods(c)
		if err != nil {
			return false, err
		}
		return n >= want, fmt.Errorf("%d Ready", n)
	})
}

// remove deletes the tenant's PhoneAuthMethods, then its namespace and EntraTenant, and
// waits until they are gone. The objects go first, while the manager may still remove their
// finalizers: in a namespace-scoped install the manager's RoleBinding lives in that namespace
// and would be deleted with it, leaving the finalizers (and the namespace) stuck.
func (tn *tenant) remove(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	_ = c.DeleteAllOf(ctx, &identityv1alpha1.PhoneAuthMethod{}, client.InNamespace(tn.Namespace))
	poll(t, 2*time.Minute, "PhoneAuthMethods of "+tn.Name+" deleted", func() (bool, error) {
		var list identityv1alpha1.PhoneAuthMethodList
		err := c.List(ctx, &list, client.InNamespace(tn.Namespace))
		return err == nil && len(list.Items) == 0, fmt.Errorf("%d left: %v", len(list.Items), err)
	})
	_ = c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.Namespace}})
	_ = c.Delete(ctx, &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: tn.Name}})
	poll(t, 2*time.Minute, "tenant "+tn.Name+" removed", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: tn.Namespace}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), err
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
