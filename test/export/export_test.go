/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package export is the end-to-end test of brownfield adoption: a seeded tenant of 1,000
// users who already have phones is exported with the kubectl-phoneop binary, the export is
// applied with kubectl to a real kube-apiserver, and the manager binary reports every object
// Ready without a single Graph write. The pieces are `make demo`'s (internal/testharness);
// the package has its own harness so that its 2,300 objects never disturb test/e2e.
package export

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/testharness"
)

const (
	users  = 1000
	domain = "contoso.com"
	// teams is how many namespaces the users are spread over (by the users file), so that
	// the per-namespace kustomizations are applied in parallel, as CI would per team.
	teams = 4
)

func team(i int) string { return fmt.Sprintf("team-%d", i%teams) }

// The plugin's read-only app registration, as azidentity's EnvironmentCredential reads it.
const (
	readOnlyAppID  = "c0000000-0000-4000-8000-0000000000a1"
	readOnlySecret = "read-only-app-secret"
)

var (
	h      *testharness.Harness
	tenant *testharness.Tenant
	plugin string // the kubectl-phoneop binary
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if testing.Short() {
		fmt.Println("export e2e: skipped in -short mode: the test drives the manager against a kube-apiserver")
		return 0
	}
	if err := testharness.CheckKubectl(); err != nil {
		fmt.Fprintln(os.Stderr, "export e2e:", err)
		return 1
	}
	ctx := context.Background()
	var err error
	h, err = testharness.Start(ctx, testharness.Options{WorkDir: os.Getenv("PHONEOP_E2E_WORKDIR"),
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }})
	if err != nil {
		fmt.Fprintf(os.Stderr, "export e2e: starting the harness failed (run with `make test`, which builds the control plane): %v\n", err)
		return 1
	}
	defer func() { _ = h.Stop() }()
	plugin = filepath.Join(h.Dir, "kubectl-phoneop")
	build := exec.CommandContext(ctx, "go", "build", "-o", plugin, "./cmd/kubectl-phoneop")
	build.Dir = moduleDir()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "export e2e: go build ./cmd/kubectl-phoneop: %v\n%s", err, out)
		return 1
	}
	tenant = &testharness.Tenant{Name: "contoso", Namespace: team(0)}
	if err := h.CreateTenant(ctx, tenant); err != nil {
		fmt.Fprintf(os.Stderr, "export e2e: creating the tenant: %v\n", err)
		return 1
	}
	// The plugin's own read-only app (docs/entra-app.md): export never uses the manager's
	// credential unless asked to.
	readOnly := graphemu.SeedApp{TenantID: tenant.TenantID, ClientID: readOnlyAppID, ClientSecret: readOnlySecret,
		Permissions: []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll}}
	if err := h.SeedEmulator(ctx, graphemu.Seed{Apps: []graphemu.SeedApp{readOnly}}); err != nil {
		fmt.Fprintf(os.Stderr, "export e2e: adding the read-only app: %v\n", err)
		return 1
	}
	for i := 1; i < teams; i++ {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: team(i), Labels: map[string]string{testharness.TenantLabel: tenant.Name}}}
		if err := h.Client.Create(ctx, ns); err != nil {
			fmt.Fprintf(os.Stderr, "export e2e: creating namespace %s: %v\n", ns.Name, err)
			return 1
		}
	}
	return m.Run()
}

func moduleDir() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// seed gives every user a mobile, 30 % an alternate mobile and 10 % an office phone (half
// of those with an extension); numbers are unique so every mobile registers for SMS sign-in.
// Three users show masked numbers (a reader without full rights) and one holds a number that
// does not parse: the export must leave those four out.
func seed(t *testing.T) (phones int, leftOut []string) {
	t.Helper()
	s := graphemu.Seed{}
	for i := range users {
		u := graphemu.SeedUser{User: graphemu.User{TenantID: tenant.TenantID, ID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", i),
			UserPrincipalName: fmt.Sprintf("user%04d@%s", i, domain)}}
		u.PhoneMethods = append(u.PhoneMethods, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: fmt.Sprintf("+1 206%07d", i)})
		if i%10 < 3 {
			u.PhoneMethods = append(u.PhoneMethods, graphemu.PhoneMethod{PhoneType: "alternateMobile", PhoneNumber: fmt.Sprintf("+44 7700%06d", i)})
		}
		if i%10 == 9 {
			n := fmt.Sprintf("+49 30%07d", i)
			if i%20 == 9 {
				n += fmt.Sprintf("x%d", i%1000)
			}
			u.PhoneMethods = append(u.PhoneMethods, graphemu.PhoneMethod{PhoneType: "office", PhoneNumber: n})
		}
		if i == 500 {
			u.PhoneMethods[0].PhoneNumber = "+1 55" // does not parse
		}
		phones += len(u.PhoneMethods)
		s.Users = append(s.Users, u)
	}
	if err := h.SeedEmulator(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	masked := []string{"user0001@" + domain, "user0002@" + domain, "user0003@" + domain}
	if err := h.EmulatorAdmin(context.Background(), http.MethodPut, "faults", graphemu.Faults{MaskUsers: masked}, nil); err != nil {
		t.Fatal(err)
	}
	leftOut = append(masked, "user0500@"+domain)
	// user0001..3 lose every phone; user0500 only its mobile.
	for _, i := range []int{1, 2, 3} {
		phones -= len(s.Users[i].PhoneMethods)
	}
	return phones - 1, leftOut
}

// kubectlPhoneop runs the plugin as a person would: kubeconfig from the environment, the
// emulator's certificate trusted through SSL_CERT_FILE, the read-only app's credentials in
// AZURE_* (the EntraTenant gives the tenant id and the emulator's authority).
func kubectlPhoneop(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(plugin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+h.Kubeconfig, "SSL_CERT_FILE="+h.EmulatorCert,
		"AZURE_TENANT_ID="+tenant.TenantID, "AZURE_CLIENT_ID="+readOnlyAppID, "AZURE_CLIENT_SECRET="+readOnlySecret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl-phoneop %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := h.Kubectl(context.Background(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// graphWrites counts calls that could change Graph: anything but GETs, the $batch envelope
// (its parts are counted on their own, with their own verb) and the login authority.
func graphWrites(s testharness.Stats) (writes int, detail []string) {
	for _, st := range s {
		if st.Method == http.MethodGet || st.Route == graphemu.RouteBatch || strings.HasPrefix(st.Route, "/{tenant}") || strings.HasPrefix(st.Route, "/common") {
			continue
		}
		writes += st.Count
		detail = append(detail, fmt.Sprintf("%s %s %d: %d", st.Method, st.Route, st.Status, st.Count))
	}
	return writes, detail
}

func TestExportApplyReadyWithoutWrites(t *testing.T) {
	began := time.Now()
	phones, leftOut := seed(t)
	ctx := context.Background()
	out, secrets := filepath.Join(h.Dir, "phones"), filepath.Join(h.Dir, "phones-secrets")

	// 1. Export: reads only. A users file spreads the users over the teams' namespaces.
	var list strings.Builder
	list.WriteString("# userPrincipalName namespace\n")
	for i := range users {
		fmt.Fprintf(&list, "user%04d@%s %s\n", i, domain, team(i))
	}
	usersFile := filepath.Join(h.Dir, "users.txt")
	if err := os.WriteFile(usersFile, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	exportArgs := []string{"export", "--tenant", tenant.Name, "--users-file", usersFile, "--output-dir", out, "--no-progress"}
	if err := h.ResetEmulatorStats(ctx); err != nil {
		t.Fatal(err)
	}
	step := time.Now()
	summary := kubectlPhoneop(t, exportArgs...)
	t.Logf("export of %d users: %s\n%s", users, time.Since(step).Round(time.Millisecond), summary)
	stats, err := h.EmulatorStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w, detail := graphWrites(stats); w != 0 {
		t.Fatalf("the export wrote to Graph: %v", detail)
	}
	t.Logf("export Graph calls:\n%s", stats)
	var priorities []graphemu.PriorityStat
	if err := h.EmulatorAdmin(ctx, http.MethodGet, "priorities", nil, &priorities); err != nil {
		t.Fatal(err)
	}
	for _, p := range priorities {
		if p.Priority != "low" {
			t.Errorf("the export sent %s %s at priority %s ×%d, want low", p.Method, p.Route, p.Priority, p.Count)
		}
	}
	for _, d := range []string{secrets, filepath.Join(secrets, team(0))} {
		info, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s holds numbers and is %#o, want 0700", d, perm)
		}
	}
	if parts := stats.Count(http.MethodGet, graphemu.RoutePhoneList); parts != users {
		t.Errorf("the export read %d users' phones, want %d (one batched GET each)", parts, users)
	}
	if batches := stats.Count(http.MethodPost, graphemu.RouteBatch); batches != users/20 {
		t.Errorf("%d batches, want %d", batches, users/20)
	}
	sum, err := os.ReadFile(filepath.Join(out, "export-summary.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range leftOut {
		if !strings.Contains(string(sum), "user: "+u) {
			t.Errorf("%s is not listed as left out:\n%s", u, sum)
		}
	}
	if !strings.Contains(string(sum), fmt.Sprintf("objects: %d", phones)) {
		t.Fatalf("the summary does not count %d objects:\n%s", phones, sum)
	}

	// 2. Apply with kubectl, one namespace per process as a team's pipeline would: its
	// Secrets first, then its PhoneAuthMethods.
	if err := h.ResetEmulatorStats(ctx); err != nil {
		t.Fatal(err)
	}
	step = time.Now()
	errs := make(chan error, teams)
	for i := range teams {
		go func() {
			for _, dir := range []string{filepath.Join(secrets, team(i)), filepath.Join(out, team(i))} {
				if b, err := h.Kubectl(ctx, "apply", "--server-side", "-k", dir).CombinedOutput(); err != nil {
					errs <- fmt.Errorf("kubectl apply -k %s: %v\n%s", dir, err, b)
					return
				}
			}
			errs <- nil
		}()
	}
	for range teams {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("kubectl apply of %d Secrets and %d PhoneAuthMethods in %d namespaces: %s", users-3, phones, teams, time.Since(step).Round(time.Millisecond))

	// 3. Every object Ready (reason Synced: nothing planned), zero Graph writes.
	step = time.Now()
	reasons := func() []string {
		out := kubectl(t, "get", "pam", "-A", "-o",
			`jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{.status.conditions[?(@.type=="Ready")].reason}{" "}{.spec.managementPolicy}{" "}{.status.plannedActions}{"\n"}{end}`)
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	var lines []string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
		lines = reasons()
		ready := 0
		for _, l := range lines {
			if strings.TrimSpace(l) == "True Synced ObserveOnly" {
				ready++
			}
		}
		if ready == phones && len(lines) == phones {
			break
		}
		if time.Now().After(deadline) {
			counts := map[string]int{}
			for _, l := range lines {
				counts[l]++
			}
			t.Fatalf("not every object became Ready with nothing planned: %v", counts)
		}
	}
	t.Logf("all %d Ready (Synced, nothing planned) %s after the apply", phones, time.Since(step).Round(time.Millisecond))
	stats, err = h.EmulatorStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w, detail := graphWrites(stats); w != 0 {
		t.Fatalf("%d Graph writes after applying the export: %v", w, detail)
	}
	t.Logf("manager's Graph calls to make %d objects Ready:\n%s", phones, stats)

	// 4. A rerun on the unchanged tenant changes no byte.
	before := snapshot(t, out, secrets)
	kubectlPhoneop(t, exportArgs...)
	if after := snapshot(t, out, secrets); after != before {
		t.Fatal("a rerun on the unchanged tenant changed the export")
	}
	t.Logf("whole scenario: %s", time.Since(began).Round(time.Millisecond))
}

// snapshot concatenates every file's path and content, in walk (lexical) order.
func snapshot(t *testing.T, dirs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range dirs {
		err := filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			c, err := os.ReadFile(p)
			fmt.Fprintf(&b, "%s\n%s\n", p, c)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
