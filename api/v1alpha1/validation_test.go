package v1alpha1_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// k8s is a client of the package's one test control plane, started in TestMain with the
// generated CRDs installed: the admission rules under test are exactly the ones we ship.
var k8s client.Client

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// -short runs the tests that need no API server; those that do skip (needsControlPlane).
		os.Exit(m.Run())
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the test control plane failed (run the tests with `make test`, which builds it): %v\n", err)
		os.Exit(1)
	}
	k8s, err = client.New(cfg, client.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "creating a client: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the test control plane: %v\n", err)
	}
	os.Exit(code)
}

// needsControlPlane skips a test that talks to the API server under go test -short, where
// TestMain starts none.
func needsControlPlane(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the test control plane; runs without -short")
	}
}

var (
	pamGVK    = schema.GroupVersionKind{Group: "identity.phoneop.dev", Version: "v1alpha1", Kind: "PhoneAuthMethod"}
	tenantGVK = schema.GroupVersionKind{Group: "identity.phoneop.dev", Version: "v1alpha1", Kind: "EntraTenant"}
)

// object builds an unstructured object from a YAML spec, so that cases can leave out required
// fields or send wrong types exactly as a user's manifest would.
func object(t *testing.T, gvk schema.GroupVersionKind, name, specYAML string) *unstructured.Unstructured {
	t.Helper()
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(specYAML), &spec); err != nil {
		t.Fatalf("bad test YAML: %v", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(gvk)
	u.SetName(name)
	if gvk == pamGVK {
		u.SetNamespace("default")
	}
	return u
}

// admissionCase is one manifest and what the API server must answer.
type admissionCase struct {
	// spec is the object's spec in YAML.
	spec string
	// wantErr lists substrings the rejection must contain (field name and fix); empty means
	// the object must be accepted.
	wantErr []string
}

const validMobile = `
tenantRef: {name: contoso}
user: kim@contoso.com
phoneType: mobile
phoneNumber: "+1 2065550199"
smsSignIn: Enabled`

func TestPhoneAuthMethodAdmission(t *testing.T) {
	needsControlPlane(t)
	cases := map[string]admissionCase{
		"a mobile with SMS sign-in is accepted":             {spec: validMobile},
		"an office phone with an extension is accepted":     {spec: "{tenantRef: {name: c}, user: kim@contoso.com, phoneType: office, phoneNumber: '+44 2071234567x1234567890'}"},
		"an alternate mobile from a Secret is accepted":     {spec: "{tenantRef: {name: c}, user: 6e7b5a1c-0000-4000-8000-000000000001, phoneType: alternateMobile, phoneNumberFrom: {secretKeyRef: {name: s, key: number}}}"},
		"a 3-digit country code and 12 digits are accepted": {spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+358 123456789012'}"},
		"E.164 without the space is accepted":               {spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+12065550199'}"},
		"E.164 of 15 digits is accepted":                    {spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+491701234567890'}"},
		"E.164 with an extension is accepted on an office":  {spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: office, phoneNumber: '+442071234567x1234567890'}"},
		"15 digits and a 10 digit extension are accepted":   {spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: office, phoneNumber: '+1 42555501131234x1234567890'}"},
		"a guest's UPN is accepted":                         {spec: "{tenantRef: {name: c}, user: 'kim_fabrikam.com#EXT#@contoso.onmicrosoft.com', phoneType: mobile, phoneNumber: '+1 2065550199'}"},
		"an explicit object id pin is accepted":             {spec: "{tenantRef: {name: c}, user: kim@contoso.com, userId: 6e7b5a1c-0000-4000-8000-000000000001, phoneType: mobile, phoneNumber: '+1 2065550199'}"},
		"an OData function segment as the user is refused": {
			spec: "{tenantRef: {name: c}, user: 'delta()', phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.user", "userPrincipalName", "object id"}},
		"an OData type cast as the user is refused": {
			spec: "{tenantRef: {name: c}, user: microsoft.graph.user, phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.user", "userPrincipalName"}},
		"a path as the user is refused": {
			spec: "{tenantRef: {name: c}, user: 'kim@contoso.com/authentication', phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.user"}},
		"a userId that is not an object id is refused": {
			spec: "{tenantRef: {name: c}, user: kim@contoso.com, userId: kim, phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.userId"}},
		"explicit policies are accepted": {spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199', deletionPolicy: Delete, managementPolicy: ObserveOnly, smsSignIn: Disabled}"},

		"16 digits with the space are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 425555011312345'}", wantErr: []string{"spec.phoneNumber", "more than 15 digits", "E.164"}},
		"16 digits without the space are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1425555011312345'}", wantErr: []string{"spec.phoneNumber", "more than 15 digits"}},
		"a 3-digit country code and 15 digits are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+358 123456789012345'}", wantErr: []string{"spec.phoneNumber", "more than 15 digits"}},
		"fewer than 5 digits without the space are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1234'}", wantErr: []string{"spec.phoneNumber", "Graph format"}},
		"dashes are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 206-555-0199'}", wantErr: []string{"spec.phoneNumber", "Graph format", "digits only"}},
		"two spaces are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 206 5550199'}", wantErr: []string{"spec.phoneNumber", "Graph format"}},
		"an upper-case X is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: office, phoneNumber: '+1 2065550199X12'}", wantErr: []string{"spec.phoneNumber", "Graph format"}},
		"a country code starting with 0 is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+0 2065550199'}", wantErr: []string{"spec.phoneNumber", "Graph format"}},
		"a 4-digit country code is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1234 2065550199'}", wantErr: []string{"spec.phoneNumber"}},
		"fewer than 4 digits are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 123'}", wantErr: []string{"spec.phoneNumber"}},
		"more than 15 digits are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 1234567890123456'}", wantErr: []string{"spec.phoneNumber"}},
		"a missing plus sign is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '1 2065550199'}", wantErr: []string{"spec.phoneNumber"}},
		"an extension of 11 digits is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: office, phoneNumber: '+1 2065550199x12345678901'}", wantErr: []string{"spec.phoneNumber"}},
		"an extension on a mobile is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199x12'}", wantErr: []string{"extension", "office"}},
		"both a number and a Secret reference are refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199', phoneNumberFrom: {secretKeyRef: {name: s, key: k}}}", wantErr: []string{"exactly one of spec.phoneNumber or spec.phoneNumberFrom"}},
		"neither a number nor a Secret reference is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile}", wantErr: []string{"exactly one of spec.phoneNumber or spec.phoneNumberFrom"}},
		"SMS sign-in on an office phone is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: office, phoneNumber: '+1 2065550199', smsSignIn: Enabled}", wantErr: []string{"spec.smsSignIn", "mobile"}},
		"SMS sign-in on an alternate mobile is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: alternateMobile, phoneNumber: '+1 2065550199', smsSignIn: Disabled}", wantErr: []string{"spec.smsSignIn", "mobile"}},
		"an unknown smsSignIn value is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199', smsSignIn: On}", wantErr: []string{"spec.smsSignIn", "Enabled", "Disabled"}},
		"an unknown phone type is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: landline, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.phoneType", "mobile"}},
		"a missing user is refused": {
			spec: "{tenantRef: {name: c}, phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.user", "Required"}},
		"a user with a space is refused": {
			spec: "{tenantRef: {name: c}, user: 'kim @contoso.com', phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.user"}},
		"a missing tenantRef is refused": {
			spec: "{user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199'}", wantErr: []string{"spec.tenantRef", "Required"}},
		"an unknown deletion policy is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199', deletionPolicy: Purge}", wantErr: []string{"spec.deletionPolicy", "Orphan"}},
		"an unknown management policy is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumber: '+1 2065550199', managementPolicy: Partial}", wantErr: []string{"spec.managementPolicy", "ObserveOnly"}},
		"a Secret reference without a key is refused": {
			spec: "{tenantRef: {name: c}, user: u@c.com, phoneType: mobile, phoneNumberFrom: {secretKeyRef: {name: s}}}", wantErr: []string{"spec.phoneNumberFrom.secretKeyRef.key", "Required"}},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			assertAdmission(t, object(t, pamGVK, fmt.Sprintf("pam-%d", i), tc.spec), tc)
		})
	}
}

func TestPhoneAuthMethodDefaults(t *testing.T) {
	needsControlPlane(t)
	obj := object(t, pamGVK, "defaults", validMobile)
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	for field, want := range map[string]string{"deletionPolicy": "Orphan", "managementPolicy": "Full"} {
		got, _, _ := unstructured.NestedString(obj.Object, "spec", field)
		if got != want {
			t.Errorf("spec.%s defaulted to %q, want %q", field, got, want)
		}
	}
}

func TestPhoneAuthMethodUpdateRules(t *testing.T) {
	needsControlPlane(t)
	cases := map[string]struct {
		field   []string
		value   any
		wantErr []string
	}{
		"changing phoneType is refused":       {field: []string{"spec", "phoneType"}, value: "office", wantErr: []string{"spec.phoneType is immutable"}},
		"changing user is refused":            {field: []string{"spec", "user"}, value: "lee@contoso.com", wantErr: []string{"spec.user is immutable"}},
		"changing tenantRef is refused":       {field: []string{"spec", "tenantRef", "name"}, value: "fabrikam", wantErr: []string{"spec.tenantRef is immutable"}},
		"changing the number is accepted":     {field: []string{"spec", "phoneNumber"}, value: "+1 4255550100"},
		"turning SMS sign-in off is accepted": {field: []string{"spec", "smsSignIn"}, value: "Disabled"},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			obj := object(t, pamGVK, fmt.Sprintf("update-%d", i), validMobile)
			if err := k8s.Create(ctx, obj); err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() { _ = k8s.Delete(ctx, obj) })
			if err := unstructured.SetNestedField(obj.Object, tc.value, tc.field...); err != nil {
				t.Fatal(err)
			}
			assertResult(t, k8s.Update(ctx, obj), tc.wantErr)
		})
	}
}

const validTenant = `
tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
cloud: Custom
authorityHost: https://127.0.0.1:8443/
graphEndpoint: https://127.0.0.1:8443
credentials: {clientSecret: {clientId: 00000000-0000-0000-0000-0000000000aa, secretRef: {name: contoso-app, key: clientSecret}}}
allowedNamespaces: {matchLabels: {phoneop.dev/tenant: contoso}}
userScope: {allowedDomains: [contoso.com], deniedUsers: [breakglass@contoso.com]}`

func TestEntraTenantAdmission(t *testing.T) {
	needsControlPlane(t)
	const creds = "credentials: {workloadIdentity: {clientId: 00000000-0000-0000-0000-0000000000aa}}, allowedNamespaces: {}"
	cases := map[string]admissionCase{
		"a Custom tenant with a client secret is accepted":   {spec: validTenant},
		"a Global tenant with workload identity is accepted": {spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, " + creds + "}"},
		"a China tenant with a certificate is accepted": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, cloud: China, allowedNamespaces: {}, credentials: {clientCertificate: {clientId: 00000000-0000-0000-0000-0000000000aa, secretRef: {name: cert, key: tls.pem}}}}"},
		"a tenantId that is not a GUID is refused": {
			spec: "{tenantId: contoso.onmicrosoft.com, " + creds + "}", wantErr: []string{"spec.tenantId", "GUID"}},
		"an unknown cloud is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, cloud: Mars, " + creds + "}", wantErr: []string{"spec.cloud", "Global"}},
		"a Custom cloud without endpoints is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, cloud: Custom, " + creds + "}", wantErr: []string{"spec.authorityHost and spec.graphEndpoint are required when spec.cloud is Custom"}},
		"endpoints on the Global cloud are refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, graphEndpoint: 'https://graph.example', authorityHost: 'https://login.example/', " + creds + "}", wantErr: []string{"spec.authorityHost and spec.graphEndpoint"}},
		"a plain-http authority is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, cloud: Custom, authorityHost: 'http://127.0.0.1/', graphEndpoint: 'https://127.0.0.1', " + creds + "}", wantErr: []string{"spec.authorityHost must be an https URL"}},
		"two credentials are refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, allowedNamespaces: {}, credentials: {workloadIdentity: {clientId: 00000000-0000-0000-0000-0000000000aa}, clientSecret: {clientId: 00000000-0000-0000-0000-0000000000aa, secretRef: {name: s, key: k}}}}", wantErr: []string{"spec.credentials must set exactly one of"}},
		"no credentials are refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, allowedNamespaces: {}, credentials: {}}", wantErr: []string{"spec.credentials must set exactly one of"}},
		"a client id that is not a GUID is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, allowedNamespaces: {}, credentials: {workloadIdentity: {clientId: phoneop}}}", wantErr: []string{"spec.credentials.workloadIdentity.clientId", "GUID"}},
		"a change budget with both caps is accepted": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, changeBudget: {maxDestructiveWritesPerHour: 0, maxCreatesPerHour: 1000000}, " + creds + "}"},
		"a negative creates cap is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, changeBudget: {maxCreatesPerHour: -1}, " + creds + "}", wantErr: []string{"spec.changeBudget.maxCreatesPerHour"}},
		"a creates cap above a million is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, changeBudget: {maxCreatesPerHour: 1000001}, " + creds + "}", wantErr: []string{"spec.changeBudget.maxCreatesPerHour"}},
		"a missing allowedNamespaces is refused": {
			spec: "{tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, credentials: {workloadIdentity: {clientId: 00000000-0000-0000-0000-0000000000aa}}}", wantErr: []string{"spec.allowedNamespaces", "Required"}},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			assertAdmission(t, object(t, tenantGVK, fmt.Sprintf("tenant-%d", i), tc.spec), tc)
		})
	}
}

func TestEntraTenantIDIsImmutable(t *testing.T) {
	needsControlPlane(t)
	ctx := context.Background()
	obj := object(t, tenantGVK, "immutable", validTenant)
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, obj) })
	_ = unstructured.SetNestedField(obj.Object, "11111111-86f1-41af-91ab-2d7cd011db47", "spec", "tenantId")
	assertResult(t, k8s.Update(ctx, obj), []string{"spec.tenantId is immutable"})
}

// assertAdmission creates obj and checks the API server's answer against tc.
func assertAdmission(t *testing.T, obj *unstructured.Unstructured, tc admissionCase) {
	t.Helper()
	err := k8s.Create(context.Background(), obj)
	if err == nil {
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	}
	assertResult(t, err, tc.wantErr)
	// A rejection must never echo a phone number back (personal data ends up in CI logs):
	// neither as written nor as a run of its digits.
	if number, _, _ := unstructured.NestedString(obj.Object, "spec", "phoneNumber"); err != nil && number != "" {
		national := number
		if _, after, ok := strings.Cut(number, " "); ok {
			national = after
		}
		national, _, _ = strings.Cut(national, "x")
		if strings.Contains(err.Error(), number) || strings.Contains(err.Error(), strings.ReplaceAll(number, " ", "")) ||
			(len(national) >= 4 && strings.Contains(err.Error(), national)) {
			t.Errorf("rejection echoes the phone number: %v", err)
		}
	}
}

func assertResult(t *testing.T, err error, wantErr []string) {
	t.Helper()
	if len(wantErr) == 0 {
		if err != nil {
			t.Fatalf("expected the API server to accept the object, got: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("expected the API server to refuse the object with %q, but it was accepted", wantErr)
	}
	for _, want := range wantErr {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("rejection does not mention %q:\n%v", want, err)
		}
	}
}

// TestEntraTenantChangeBudgetDefaults: an EntraTenant that sets no change budget gets both
// caps' defaults from the API server, the ones the controllers fall back to.
func TestEntraTenantChangeBudgetDefaults(t *testing.T) {
	needsControlPlane(t)
	ctx := context.Background()
	obj := object(t, tenantGVK, "budget-defaults", validTenant)
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, obj) })
	for field, want := range map[string]int64{
		"maxDestructiveWritesPerHour": identityv1alpha1.DefaultMaxDestructiveWritesPerHour,
		"maxCreatesPerHour":           identityv1alpha1.DefaultMaxCreatesPerHour,
	} {
		got, found, _ := unstructured.NestedInt64(obj.Object, "spec", "changeBudget", field)
		if !found || got != want {
			t.Errorf("spec.changeBudget.%s = %d (set: %v), want the default %d", field, got, found, want)
		}
	}
}
