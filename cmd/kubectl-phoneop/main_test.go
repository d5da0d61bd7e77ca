package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// Every flag of every command has a sentence of help.
func TestHelpExplainsEveryFlag(t *testing.T) {
	root := newRootCommand()
	for _, cmd := range append([]*cobra.Command{root}, root.Commands()...) {
		for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if len(f.Usage) < 20 {
					t.Errorf("%s --%s: usage %q explains too little", cmd.Name(), f.Name, f.Usage)
				}
			})
		}
		if cmd.Long == "" && cmd != root {
			t.Errorf("%s has no long help", cmd.Name())
		}
	}
}

// The built-in policies (used when the CRD cannot be read) are values the API's enum allows.
// The enum may grow (a policy added later is read from the cluster's CRD at run time).
func TestBuiltinPoliciesAreInTheAPIEnum(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "api", "v1alpha1", "phoneauthmethod_types.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\+kubebuilder:validation:Enum=([A-Za-z;]+)\ntype ManagementPolicy string`).FindSubmatch(src)
	if m == nil {
		t.Fatal("no Enum marker above type ManagementPolicy")
	}
	enum := strings.Split(string(m[1]), ";")
	for _, p := range builtinPolicies {
		if !slices.Contains(enum, p) {
			t.Errorf("builtin policy %q is not in the API's enum %v", p, enum)
		}
	}
	for _, p := range enum {
		if !slices.Contains(builtinPolicies, p) {
			t.Logf("the API allows %q, which this build accepts only when it can read the CRD; add it to builtinPolicies", p)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for name, args := range map[string][]string{
		"no tenant":                {"export", "-n", "x"},
		"no namespace":             {"export", "--tenant", "contoso"},
		"two selectors":            {"report", "--tenant", "contoso", "--credentials-from", "azidentity", "--tenant-id", "x", "--domain", "a.com", "--group", "g", "--kubeconfig", "/nonexistent"},
		"secrets inside output":    {"export", "--tenant", "contoso", "-n", "x", "--output-dir", "o", "--secrets-dir", "o/s"},
		"unknown output format":    {"report", "--tenant", "contoso", "-o", "yaml"},
		"unknown credentials kind": {"export", "--tenant", "contoso", "-n", "x", "--credentials-from", "vault", "--kubeconfig", "/nonexistent"},
	} {
		t.Run(name, func(t *testing.T) {
			code := run(append(args, "--no-progress"))
			if name == "unknown credentials kind" {
				if code != exitFailed {
					t.Fatalf("exit %d, want %d", code, exitFailed)
				}
				return
			}
			if code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
		})
	}
}

// The whole command line against the emulator, with azidentity's environment credential.
func TestExportAndReportCommands(t *testing.T) {
	const tenantID, appID, secret = "7e1a2b3c-0000-4000-8000-000000000001", "7e1a2b3c-0000-4000-8000-0000000000a1", "s3cret"
	env := graphtest.NewEnv(t, graphemu.Options{})
	env.MustAddTenant(t, graphemu.Tenant{ID: tenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}})
	env.MustAddApp(t, graphemu.App{TenantID: tenantID, ClientID: appID, ClientSecret: secret,
		Permissions: []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll}})
	for i := range 30 {
		id := fmt.Sprintf("6e7b0000-0000-4000-8000-%012d", i)
		domain := "contoso.com"
		if i%3 == 0 {
			domain = "fabrikam.com"
		}
		env.MustAddUser(t, graphemu.User{TenantID: tenantID, ID: id, UserPrincipalName: fmt.Sprintf("u%02d@%s", i, domain)})
		if err := env.Emulator.SetPhoneMethod(tenantID, id, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: fmt.Sprintf("+1 20655501%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	baseTransport = env.Server.Client().Transport
	t.Cleanup(func() { baseTransport = http.DefaultTransport })
	t.Setenv("AZURE_TENANT_ID", tenantID)
	t.Setenv("AZURE_CLIENT_ID", appID)
	t.Setenv("AZURE_CLIENT_SECRET", secret)
	dir := t.TempDir()
	conn := []string{"--tenant", "contoso", "--credentials-from", "azidentity", "--tenant-id", tenantID, "--cloud", "Custom",
		"--authority-host", env.AuthorityHost(), "--graph-endpoint", env.GraphRoot(), "--kubeconfig", filepath.Join(dir, "none"), "--no-progress"}
	out := filepath.Join(dir, "out")
	if code := run(append([]string{"export", "--domain", "contoso.com", "-n", "team-a", "--output-dir", out}, conn...)); code != exitOK {
		t.Fatalf("export exit %d", code)
	}
	files, _ := filepath.Glob(filepath.Join(out, "team-a", "u*.yaml"))
	if len(files) != 20 {
		t.Fatalf("%d user files, want 20", len(files))
	}
	if code := run(append([]string{"export", "--domain", "contoso.com", "-n", "team-a", "--output-dir", out, "--policy", "Sometimes"}, conn...)); code != exitUsage {
		t.Fatalf("an unknown policy: exit %d, want %d", code, exitUsage)
	}
	for _, s := range env.Emulator.Stats() {
		if s.Method != "GET" && s.Route != graphemu.RouteBatch && s.Route != graphemu.RouteToken {
			t.Errorf("the export wrote: %+v", s)
		}
	}
	if code := run(append([]string{"report", "-o", "csv"}, conn...)); code != exitOK {
		t.Fatalf("report exit %d", code)
	}
}
