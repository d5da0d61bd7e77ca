package export_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/export"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

const (
	tenantID = "7e1a2b3c-0000-4000-8000-000000000001"
	appID    = "7e1a2b3c-0000-4000-8000-0000000000a1"
	secret   = "s3cret"
)

// tenant is an emulated tenant with phones of every kind an export meets.
type tenant struct {
	env   *graphtest.Env
	users []selection.User
}

type seedUser struct {
	upn     string
	methods []graphemu.PhoneMethod
}

var seedUsers = []seedUser{
	{"kim@contoso.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+1 2065550101", SMSSignInState: "ready"},
		{PhoneType: "alternateMobile", PhoneNumber: "+12065550102"}}},
	{"lee@contoso.com", []graphemu.PhoneMethod{{PhoneType: "office", PhoneNumber: "+1 4255550100x123"}}},
	{"max@contoso.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+1 2065550150"}}}, // masked by a fault
	{"bad@contoso.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+1 55"}}},
	{"ana@contoso.com", nil},
	{"O'Neil@contoso.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+44 7700900123", SMSSignInState: "notEnabled"}}},
	{"breakglass@contoso.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+1 2065550199"}}},
	{"eve@fabrikam.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+1 2065550160"}}},
	{"sam@contoso.com", []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: "+1 2065550170"}}}, // already managed
}

func newTenant(t *testing.T) *tenant {
	t.Helper()
	env := graphtest.NewEnv(t, graphemu.Options{Faults: graphemu.Faults{MaskUsers: []string{"max@contoso.com"}}})
	env.MustAddTenant(t, graphemu.Tenant{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}})
	env.MustAddApp(t, graphemu.App{TenantID: tenantID, ClientID: appID, ClientSecret: secret,
		Permissions: []string{graphemu.PermPhoneMethodReadAll, graphemu.PermUserReadAll}})
	tn := &tenant{env: env}
	for i, u := range seedUsers {
		id := fmt.Sprintf("6e7b0000-0000-4000-8000-%012d", i)
		env.MustAddUser(t, graphemu.User{TenantID: tenantID, ID: id, UserPrincipalName: u.upn})
		for _, m := range u.methods {
			if err := env.Emulator.SetPhoneMethod(tenantID, id, m); err != nil {
				t.Fatal(err)
			}
		}
		tn.users = append(tn.users, selection.User{ID: id, UPN: u.upn})
	}
	return tn
}

func (tn *tenant) client(t *testing.T) *graph.Client {
	t.Helper()
	ep := graph.Endpoints{AuthorityHost: tn.env.AuthorityHost(), GraphRoot: tn.env.GraphRoot()}
	cred, err := graph.NewCredential(tenantID, ep, graph.CredentialSource{ClientID: appID, ClientSecret: secret}, tn.env.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.NewClient(graph.Config{TenantID: tenantID, Cloud: graph.CloudCustom, Endpoints: ep, Credential: cred,
		HTTPClient: tn.env.HTTPClient(), Throttles: graph.NewThrottles(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func options(dir string) export.Options {
	return export.Options{TenantRef: "contoso", TenantID: tenantID, Selection: "test", Namespace: "team-a",
		Policy: identityv1alpha1.ManagementPolicyObserveOnly, SMSSignIn: true,
		OutputDir: filepath.Join(dir, "out"), SecretsDir: filepath.Join(dir, "secrets"),
		Managed: map[string]string{export.ManagedKey("SAM@contoso.com", "mobile"): "team-b/sam-mobile",
			// the object this export writes itself, applied by an earlier run: not a reason to leave it out
			export.ManagedKey("kim@contoso.com", "mobile"): "team-a/kim.contoso.com-mobile"},
		Scope: &identityv1alpha1.UserScope{AllowedDomains: []string{"contoso.com"}, DeniedUsers: []string{"breakglass@contoso.com"}}}
}

func readObjects(t *testing.T, path string) []identityv1alpha1.PhoneAuthMethod {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []identityv1alpha1.PhoneAuthMethod
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var p identityv1alpha1.PhoneAuthMethod
		if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, p)
	}
	return out
}

func TestExport(t *testing.T) {
	tn := newTenant(t)
	dir := t.TempDir()
	o := options(dir)
	res, err := export.Run(context.Background(), tn.client(t), tn.users, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 4 || res.UsersWithPhones != 3 || res.Users != len(seedUsers) {
		t.Fatalf("objects %d, users with phones %d, users %d", res.Objects, res.UsersWithPhones, res.Users)
	}
	kim := readObjects(t, filepath.Join(o.OutputDir, "team-a", "kim.contoso.com.yaml"))
	cases := map[string]struct {
		got                        identityv1alpha1.PhoneAuthMethod
		name, phoneType, secretKey string
		sms                        string
	}{
		"mobile first, SMS sign-in from Graph's ready": {got: kim[0], name: "kim.contoso.com-mobile", phoneType: "mobile", secretKey: "mobile", sms: "Enabled"},
		"alternate second, no SMS setting":             {got: kim[1], name: "kim.contoso.com-alternate-mobile", phoneType: "alternateMobile", secretKey: "alternateMobile"},
		"office with its extension": {got: readObjects(t, filepath.Join(o.OutputDir, "team-a", "lee.contoso.com.yaml"))[0],
			name: "lee.contoso.com-office", phoneType: "office", secretKey: "office"},
		"an apostrophe in the UPN gets a hash, notEnabled is Disabled": {
			got:  readObjects(t, filepath.Join(o.OutputDir, "team-a", "o-neil.contoso.com-"+hash8("o'neil@contoso.com")[:8]+".yaml"))[0],
			name: "o-neil.contoso.com-" + hash8("o'neil@contoso.com")[:8] + "-mobile", phoneType: "mobile", secretKey: "mobile", sms: "Disabled"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.got
			if p.Name != tc.name || p.Namespace != "team-a" || string(p.Spec.PhoneType) != tc.phoneType {
				t.Fatalf("got %s/%s %s", p.Namespace, p.Name, p.Spec.PhoneType)
			}
			if p.Spec.ManagementPolicy != identityv1alpha1.ManagementPolicyObserveOnly || p.Spec.DeletionPolicy != identityv1alpha1.DeletionPolicyOrphan || p.Spec.TenantRef.Name != "contoso" {
				t.Fatalf("spec %+v", p.Spec)
			}
			if !strings.HasPrefix(p.Spec.UserID, "6e7b0000-0000-4000-8000-") {
				t.Errorf("spec.userId = %q: an exported object must be pinned to the person's object id", p.Spec.UserID)
			}
			if p.Spec.PhoneNumber != "" || p.Spec.PhoneNumberFrom == nil || p.Spec.PhoneNumberFrom.SecretKeyRef.Key != tc.secretKey {
				t.Fatalf("number source %+v / %q", p.Spec.PhoneNumberFrom, p.Spec.PhoneNumber)
			}
			gotSMS := ""
			if p.Spec.SMSSignIn != nil {
				gotSMS = string(*p.Spec.SMSSignIn)
			}
			if gotSMS != tc.sms {
				t.Fatalf("smsSignIn %q, want %q", gotSMS, tc.sms)
			}
		})
	}
	var s corev1.Secret
	b, _ := os.ReadFile(filepath.Join(o.SecretsDir, "team-a", "kim.contoso.com.yaml"))
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	// Graph's "+12065550102" comes out in the canonical Graph form.
	if s.Name != "kim.contoso.com-phones" || s.StringData["mobile"] != "+1 2065550101" || s.StringData["alternateMobile"] != "+1 2065550102" {
		t.Fatalf("secret %s: %v", s.Name, s.StringData)
	}
	for _, f := range []string{filepath.Join(o.OutputDir, "export-summary.yaml"), filepath.Join(o.OutputDir, "team-a", "kim.contoso.com.yaml")} {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "2065550") {
			t.Fatalf("%s carries a number in clear", f)
		}
	}
	want := map[string]string{
		"bad@contoso.com":        "does not parse",
		"breakglass@contoso.com": "deniedUsers",
		"eve@fabrikam.com":       "allowedDomains",
		"max@contoso.com":        "masked",
		"sam@contoso.com":        "already managed by PhoneAuthMethod team-b/sam-mobile",
	}
	if len(res.LeftOut) != len(want) {
		t.Fatalf("left out %+v", res.LeftOut)
	}
	for _, l := range res.LeftOut {
		if !strings.Contains(l.Reason, want[l.User]) {
			t.Errorf("%s left out for %q, want %q", l.User, l.Reason, want[l.User])
		}
		if strings.Contains(l.Number, "2065550150") {
			t.Errorf("the left-out list shows a number: %+v", l)
		}
	}
	if _, err := os.Stat(filepath.Join(o.OutputDir, ".kubectl-phoneop-export.journal")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the journal is left behind after a complete run")
	}
}

func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", sum[:4])
}

// tree hashes every file under dir, for "same bytes" comparisons.
func tree(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				out[p] = fmt.Sprintf("%x", sha256.Sum256(b))
			}
			return nil
		})
	}
	return out
}

func TestExportIsDeterministicAndDropsStaleFiles(t *testing.T) {
	tn := newTenant(t)
	dir := t.TempDir()
	o := options(dir)
	c := tn.client(t)
	if _, err := export.Run(context.Background(), c, tn.users, o); err != nil {
		t.Fatal(err)
	}
	first := tree(t, o.OutputDir, o.SecretsDir)
	if _, err := export.Run(context.Background(), c, tn.users, o); err != nil {
		t.Fatal(err)
	}
	if second := tree(t, o.OutputDir, o.SecretsDir); fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("a rerun changed the output:\n%v\n%v", first, second)
	}
	if err := tn.env.Emulator.DeletePhoneMethod(tenantID, "lee@contoso.com", "office"); err != nil {
		t.Fatal(err)
	}
	if _, err := export.Run(context.Background(), c, tn.users, o); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(o.OutputDir, "team-a", "lee.contoso.com.yaml"), filepath.Join(o.SecretsDir, "team-a", "lee.contoso.com.yaml")} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived the phone's removal", p)
		}
	}
	k, _ := os.ReadFile(filepath.Join(o.OutputDir, "team-a", "kustomization.yaml"))
	if strings.Contains(string(k), "lee") || !strings.Contains(string(k), "namespace: team-a") {
		t.Errorf("kustomization:\n%s", k)
	}
}

func TestExportInlineNumbers(t *testing.T) {
	tn := newTenant(t)
	o := options(t.TempDir())
	o.InlineNumbers, o.SMSSignIn = true, false
	if _, err := export.Run(context.Background(), tn.client(t), tn.users, o); err != nil {
		t.Fatal(err)
	}
	kim := readObjects(t, filepath.Join(o.OutputDir, "team-a", "kim.contoso.com.yaml"))
	if kim[0].Spec.PhoneNumber != "+1 2065550101" || kim[0].Spec.PhoneNumberFrom != nil || kim[0].Spec.SMSSignIn != nil {
		t.Fatalf("spec %+v", kim[0].Spec)
	}
	if _, err := os.Stat(o.SecretsDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("secrets written with inline numbers")
	}
}

// failAfter fails every batch after the first n.
type failAfter struct {
	r export.Reader
	n int
}

func (f *failAfter) ListPhoneMethodsBatch(ctx context.Context, ids []string) ([]graph.PhoneMethodsResult, error) {
	if f.n == 0 {
		return nil, &graph.Error{Op: "listPhoneMethodsBatch", Class: graph.Transient}
	}
	f.n--
	return f.r.ListPhoneMethodsBatch(ctx, ids)
}

func TestExportResumes(t *testing.T) {
	tn := newTenant(t)
	for i := range 45 { // 54 users: three batches
		upn := fmt.Sprintf("user%02d@contoso.com", i)
		id := fmt.Sprintf("6e7b0001-0000-4000-8000-%012d", i)
		tn.env.MustAddUser(t, graphemu.User{TenantID: tenantID, ID: id, UserPrincipalName: upn})
		if err := tn.env.Emulator.SetPhoneMethod(tenantID, id, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: fmt.Sprintf("+1 20655520%02d", i)}); err != nil {
			t.Fatal(err)
		}
		tn.users = append(tn.users, selection.User{ID: id, UPN: upn})
	}
	o := options(t.TempDir())
	o.Concurrency = 1
	c := tn.client(t)
	if _, err := export.Run(context.Background(), &failAfter{r: c, n: 1}, tn.users, o); err == nil {
		t.Fatal("the interrupted run reported success")
	}
	tn.env.Emulator.ResetStats()
	o.Resume = true
	res, err := export.Run(context.Background(), c, tn.users, o)
	if err != nil {
		t.Fatal(err)
	}
	if n := tn.env.Count("GET", graphemu.RoutePhoneList); n != len(tn.users)-20 {
		t.Fatalf("the resumed run read %d users, want %d", n, len(tn.users)-20)
	}
	if res.Resumed != 20 || res.Objects != 4+45 {
		t.Fatalf("resumed %d, objects %d", res.Resumed, res.Objects)
	}
}
