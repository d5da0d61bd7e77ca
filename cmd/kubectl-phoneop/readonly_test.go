package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/connect"
	"github.com/phoneop/phoneop/internal/graph/graphtest"
	"github.com/phoneop/phoneop/internal/graphemu"
)

const (
	roTenantID = "7e1a2b3c-0000-4000-8000-000000000002"
	roAppID    = "7e1a2b3c-0000-4000-8000-0000000000b1"
	roSecret   = "read-only-s3cret"
)

// readOnlyApp is the emulator with a tenant, and an app registration holding only what
// docs/entra-app.md grants the plugin's read-only app; its credentials are in the
// environment, as azidentity's EnvironmentCredential reads them, and the plugin's transport
// trusts the emulator's certificate. conn are the connection flags, without
// --credentials-from: the default is under test.
func readOnlyApp(t *testing.T) (env *graphtest.Env, conn []string) {
	t.Helper()
	env = graphtest.NewEnv(t, graphemu.Options{})
	env.MustAddTenant(t, graphemu.Tenant{ID: roTenantID, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}})
	env.MustAddApp(t, graphemu.App{TenantID: roTenantID, ClientID: roAppID, ClientSecret: roSecret,
		Permissions: []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll}})
	baseTransport = env.Server.Client().Transport
	t.Cleanup(func() { baseTransport = http.DefaultTransport })
	t.Setenv("AZURE_TENANT_ID", roTenantID)
	t.Setenv("AZURE_CLIENT_ID", roAppID)
	t.Setenv("AZURE_CLIENT_SECRET", roSecret)
	conn = []string{"--tenant", "contoso", "--tenant-id", roTenantID, "--cloud", "Custom",
		"--authority-host", env.AuthorityHost(), "--graph-endpoint", env.GraphRoot(),
		"--kubeconfig", filepath.Join(t.TempDir(), "none"), "--no-progress"}
	return env, conn
}

// captured runs the plugin and returns what it printed on stdout.
func captured(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var b bytes.Buffer
	stdout = &b
	t.Cleanup(func() { stdout = os.Stdout })
	code := run(args)
	return b.String(), code
}

// export and report default to azidentity's credentials, never to the manager's Secret.
func TestCredentialsDefaultToAzidentity(t *testing.T) {
	root := newRootCommand()
	if got := root.PersistentFlags().Lookup("credentials-from").DefValue; got != connect.FromAzidentity {
		t.Fatalf("--credentials-from defaults to %q, want %q", got, connect.FromAzidentity)
	}
}

// With no credential flag at all, export and report run on a read-only app's credentials
// from the environment, and every Graph request they make says it can wait
// (x-ms-throttle-priority: low).
func TestExportAndReportReadOnlyAtLowPriority(t *testing.T) {
	env, conn := readOnlyApp(t)
	for i := range 5 {
		id := fmt.Sprintf("6e7b0000-0000-4000-8000-%012d", i)
		env.MustAddUser(t, graphemu.User{TenantID: roTenantID, ID: id, UserPrincipalName: fmt.Sprintf("u%02d@contoso.com", i)})
		if err := env.Emulator.SetPhoneMethod(roTenantID, id, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: fmt.Sprintf("+1 20655502%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"export": {"export", "-n", "team-a", "--output-dir", filepath.Join(dir, "out")},
		"report": {"report", "-o", "json"},
	} {
		t.Run(name, func(t *testing.T) {
			env.Emulator.ResetStats()
			if _, code := captured(t, append(args, conn...)...); code != exitOK {
				t.Fatalf("%s exit %d", name, code)
			}
			low := env.Emulator.PriorityCount("", "", "low")
			if low == 0 {
				t.Fatalf("%s made no low-priority Graph request: %+v", name, env.Emulator.PriorityStats())
			}
			for _, s := range env.Emulator.PriorityStats() {
				if s.Priority != "low" {
					t.Errorf("%s sent %s %s at priority %s, want low", name, s.Method, s.Route, s.Priority)
				}
			}
		})
	}
}

// report --sms-sign-in and --shared-numbers, as a person runs them: the views' outputs on a
// seeded tenant, and never a number.
func TestReportViewsCommands(t *testing.T) {
	env, conn := readOnlyApp(t)
	seed := []struct {
		upn, userType, mobile, state string
	}{
		{"kim@contoso.com", "", "+1 2065550100", "ready"},
		{"lee@contoso.com", "", "+12065550100", ""}, // kim's number, another form
		{"gst_fabrikam.com#EXT#@contoso.onmicrosoft.com", "Guest", "+1 2065550111", "ready"},
		{"max@contoso.com", "", "+1 2065550122", "notEnabled"},
	}
	for i, u := range seed {
		id := fmt.Sprintf("6e7b0000-0000-4000-8000-%012d", i)
		env.MustAddUser(t, graphemu.User{TenantID: roTenantID, ID: id, UserPrincipalName: u.upn, UserType: u.userType})
		if err := env.Emulator.SetPhoneMethod(roTenantID, id, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: u.mobile, SMSSignInState: u.state}); err != nil {
			t.Fatal(err)
		}
	}
	out, code := captured(t, append([]string{"report", "--sms-sign-in", "-o", "json"}, conn...)...)
	if code != exitOK {
		t.Fatalf("report --sms-sign-in: exit %d", code)
	}
	var sms struct {
		Ready  int `json:"smsSignInReady"`
		Counts []struct {
			Namespace       string
			Guests, Members int
		} `json:"byNamespace"`
	}
	if err := json.Unmarshal([]byte(out), &sms); err != nil || sms.Ready != 2 || len(sms.Counts) != 1 || sms.Counts[0].Guests != 1 || sms.Counts[0].Members != 1 {
		t.Errorf("report --sms-sign-in -o json (%v):\n%s", err, out)
	}
	out, code = captured(t, append([]string{"report", "--shared-numbers", "-o", "csv"}, conn...)...)
	if code != exitOK {
		t.Fatalf("report --shared-numbers: exit %d", code)
	}
	want := "group,groupSize,user,userId,namespace,phoneTypes\n" +
		"1,2,kim@contoso.com,6e7b0000-0000-4000-8000-000000000000,(unmanaged),mobile\n" +
		"1,2,lee@contoso.com,6e7b0000-0000-4000-8000-000000000001,(unmanaged),mobile\n"
	if out != want {
		t.Errorf("report --shared-numbers -o csv:\n%s\nwant:\n%s", out, want)
	}
	if _, code := captured(t, append([]string{"report", "--shared-numbers", "--sms-sign-in"}, conn...)...); code != exitUsage {
		t.Errorf("both views at once: exit %d, want %d", code, exitUsage)
	}
}
