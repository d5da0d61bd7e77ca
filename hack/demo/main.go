/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command demo shows phoneop end to end on one machine (`make demo`): a real kube-apiserver
// and etcd, the Graph emulator seeded with a demo tenant (hack/demo/seed.json), and the
// manager binary, driven with kubectl. It applies a tenant and a few PhoneAuthMethods, waits
// for them, corrects a change made behind phoneop's back, prints what Graph was asked, and
// cleans up. DEMO_KEEP=1 leaves everything running until Ctrl-C.
//
// Everything printed goes through mask(): the demo never shows a phone number in clear.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/testharness"
)

const (
	demoDir = "hack/demo"
	// samplesDir holds the demo's PhoneAuthMethods, kept with the other samples users copy;
	// the tenant stays in demoDir because it is templated with the emulator's URL.
	samplesDir = "config/samples/demo"
	tenantID   = "7e1a2b3c-0000-4000-8000-000000000001"
	// driftNumber is what "an admin in the Entra portal" sets Kim's mobile to.
	driftNumber = "+1 2065550199"
	waitTimeout = "--timeout=60s"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", mask(err.Error()))
		os.Exit(1)
	}
}

// demo is one run: the harness and the steps' shared state.
type demo struct {
	h     *testharness.Harness
	began time.Time
}

func run(ctx context.Context) error {
	if err := testharness.CheckKubectl(); err != nil {
		return err
	}
	d := &demo{began: time.Now()}
	section("Starting a control plane (kube-apiserver + etcd), the Graph emulator and the manager")
	h, err := testharness.Start(ctx, testharness.Options{
		SeedFile: filepath.Join(demoDir, "seed.json"),
		// Resync rarely: the demo forces its resync with the annotation, as a user would.
		ResyncPeriod: 30 * time.Minute,
		Logf:         func(format string, args ...any) { fmt.Printf("  "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	d.h = h
	defer d.teardown()
	for _, step := range []func(context.Context) error{
		d.applyTenant,
		d.applyPhones,
		d.showObjects,
		d.showGraph,
		d.correctDrift,
		d.showStats,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("\nDemo finished in %s.\n", time.Since(d.began).Round(100*time.Millisecond))
	if os.Getenv("DEMO_KEEP") == "1" {
		d.keep(ctx)
	}
	return nil
}

func (d *demo) applyTenant(ctx context.Context) error {
	section("An EntraTenant that grants namespaces labelled phoneop.dev/tenant=contoso")
	if err := d.kubectlStdin(ctx, d.manifest("tenant.yaml"), "apply", "-f", "-"); err != nil {
		return err
	}
	return d.kubectl(ctx, "wait", "--for=condition=Ready", waitTimeout, "entratenant/contoso")
}

// applyPhones applies the phones, a conflicting claim and an invalid object, and waits for
// each to reach the state it should.
func (d *demo) applyPhones(ctx context.Context) error {
	section("PhoneAuthMethods: mobile with SMS sign-in, alternate mobile, office phone, ObserveOnly, forbidden namespace")
	if err := d.kubectl(ctx, "apply", "-f", filepath.Join(samplesDir, "phones.yaml")); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "wait", "--for=condition=Ready", waitTimeout, "-n", "team-a",
		"pam/kim-mobile", "pam/kim-alternate", "pam/lee-office"); err != nil {
		return err
	}
	if err := d.waitReason(ctx, "team-a", "max-mobile", "Planned"); err != nil {
		return err
	}
	if err := d.waitReason(ctx, "team-b", "ana-mobile", "Forbidden"); err != nil {
		return err
	}
	section("A second claim on Kim's mobile (Conflict) and an invalid number (rejected at admission)")
	if err := d.kubectl(ctx, "apply", "-f", filepath.Join(samplesDir, "conflict.yaml")); err != nil {
		return err
	}
	if err := d.waitReason(ctx, "team-a", "kim-mobile-again", "Conflict"); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "apply", "-f", filepath.Join(samplesDir, "invalid.yaml")); err == nil {
		return fmt.Errorf("the API server accepted %s/invalid.yaml", samplesDir)
	}
	fmt.Println("  (rejected, as it should be)")
	section("A Global Administrator's phone (PrivilegedUser: refused, no phone-method call)")
	if err := d.kubectlStdin(ctx, adminPhone, "apply", "-f", "-"); err != nil {
		return err
	}
	return d.waitReason(ctx, "team-a", "root-mobile", "PrivilegedUser")
}

// adminPhone claims the phone of root@contoso.com, who holds Global Administrator in the demo
// seed: phoneop refuses it, as the EntraTenant does not set userScope.allowPrivilegedUsers.
const adminPhone = `apiVersion: identity.phoneop.dev/v1alpha1
kind: PhoneAuthMethod
metadata:
  name: root-mobile
  namespace: team-a
spec:
  tenantRef:
    name: contoso
  user: root@contoso.com
  phoneType: mobile
  phoneNumber: "+1 2065550160"
`

// waitReason waits, with kubectl wait, for the Ready condition's reason.
func (d *demo) waitReason(ctx context.Context, namespace, name, reason string) error {
	return d.kubectl(ctx, "wait", waitTimeout, "-n", namespace, "pam/"+name,
		`--for=jsonpath={.status.conditions[?(@.type=="Ready")].reason}=`+reason)
}

func (d *demo) showObjects(ctx context.Context) error {
	section("What kubectl shows (numbers masked by phoneop)")
	if err := d.kubectl(ctx, "get", "pam", "-A"); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "get", "phoneop", "-A"); err != nil {
		return err
	}
	return d.kubectl(ctx, "get", "pam", "-A", "-o",
		`custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,REASON:.status.conditions[?(@.type=="Ready")].reason,PLANNED:.status.plannedActions`)
}

// showGraph prints the emulator's view of the users that have phones, masked.
func (d *demo) showGraph(ctx context.Context) error {
	section("What Graph holds (the emulator's state, masked here)")
	var state graphemu.Seed
	if err := d.h.EmulatorAdmin(ctx, "GET", "state", nil, &state); err != nil {
		return err
	}
	fmt.Printf("  %-22s %-16s %-20s %s\n", "USER", "TYPE", "NUMBER", "SMS SIGN-IN")
	for _, u := range state.Users {
		sort.Slice(u.PhoneMethods, func(i, j int) bool { return u.PhoneMethods[i].PhoneType < u.PhoneMethods[j].PhoneType })
		for _, m := range u.PhoneMethods {
			fmt.Printf("  %-22s %-16s %-20s %s\n", u.UserPrincipalName, m.PhoneType, phone.Mask(m.PhoneNumber), m.SMSSignInState)
		}
	}
	return nil
}

// correctDrift changes Kim's mobile behind phoneop's back, forces a resync with the
// annotation, and shows the number put back and the DriftCorrected event.
func (d *demo) correctDrift(ctx context.Context) error {
	section("Drift: an admin changes Kim's mobile in the portal; phoneop puts it back")
	fmt.Printf("  emulator admin API: PUT .../users/kim@contoso.com/phoneMethods/mobile {\"phoneNumber\": %q}\n", phone.Mask(driftNumber))
	if err := d.h.SetPhoneMethod(ctx, tenantID, "kim@contoso.com", "mobile", driftNumber); err != nil {
		return err
	}
	if err := d.printKimMobile(ctx, "Graph now has"); err != nil {
		return err
	}
	requested := strconv.FormatInt(time.Now().Unix(), 10) // $(date +%s)
	if err := d.kubectl(ctx, "annotate", "-n", "team-a", "pam/kim-mobile",
		"phoneop.dev/reconcile-requested-at="+requested, "--overwrite"); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "wait", waitTimeout, "-n", "team-a", "pam/kim-mobile",
		"--for=jsonpath={.status.lastHandledReconcileAt}="+requested); err != nil {
		return err
	}
	if err := d.printKimMobile(ctx, "Graph has again"); err != nil {
		return err
	}
	return d.kubectl(ctx, "get", "events", "-n", "team-a", "--field-selector", "reason=DriftCorrected")
}

func (d *demo) printKimMobile(ctx context.Context, what string) error {
	methods, err := d.h.PhoneMethods(ctx, tenantID, "kim@contoso.com")
	if err != nil {
		return err
	}
	for _, m := range methods {
		if m.PhoneType == "mobile" {
			fmt.Printf("  %s %s for Kim's mobile\n", what, phone.Mask(m.PhoneNumber))
		}
	}
	return nil
}

func (d *demo) showStats(ctx context.Context) error {
	section("What it cost: Graph calls counted by the emulator (whole demo)")
	stats, err := d.h.EmulatorStats(ctx)
	if err != nil {
		return err
	}
	reads, writes := stats.Graph()
	for _, line := range strings.Split(stats.String(), "\n") {
		fmt.Println("  " + line)
	}
	fmt.Printf("  Graph total: %d reads, %d writes (token requests excluded)\n", reads, writes)
	return nil
}

// keep leaves everything running until Ctrl-C, with the commands to look around.
func (d *demo) keep(ctx context.Context) {
	section("DEMO_KEEP=1: still running; press Ctrl-C to stop and clean up")
	fmt.Printf("  export KUBECONFIG=%s\n", d.h.Kubeconfig)
	fmt.Printf("  kubectl get pam -A\n")
	fmt.Printf("  curl --cacert %s %s/_emulator/stats\n", d.h.EmulatorCert, d.h.EmulatorURL)
	fmt.Printf("  manager log: %s\n", d.h.ManagerLog)
	<-ctx.Done()
}

func (d *demo) teardown() {
	section("Tearing down")
	if err := d.h.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "  stop:", err)
		return
	}
	fmt.Println("  manager, emulator, kube-apiserver and etcd stopped; work directory removed")
}

// manifest reads a file of hack/demo with ${EMULATOR_URL} filled in.
func (d *demo) manifest(name string) string {
	b, err := os.ReadFile(filepath.Join(demoDir, name))
	if err != nil {
		return "" // kubectl apply will say that nothing was given
	}
	return strings.ReplaceAll(string(b), "${EMULATOR_URL}", d.h.EmulatorURL)
}

// kubectl prints the command, runs it with the harness's kubeconfig and prints its output,
// masked.
func (d *demo) kubectl(ctx context.Context, args ...string) error {
	return d.kubectlStdin(ctx, "", args...)
}

func (d *demo) kubectlStdin(ctx context.Context, stdin string, args ...string) error {
	fmt.Printf("\n$ kubectl %s\n", shellQuote(args))
	cmd := d.h.Kubectl(ctx, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	copyMasked(os.Stdout, out)
	return cmd.Wait()
}

// copyMasked copies line by line, masking anything shaped like a phone number. phoneop
// already masks what it reports; this guards against what kubectl itself might echo.
func copyMasked(w io.Writer, r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		fmt.Fprintln(w, mask(s.Text()))
	}
}

// numberLike matches Graph-format numbers and US-style dashed ones (what a user might type).
var numberLike = regexp.MustCompile(`\+[1-9][0-9]{0,2} [0-9]{4,15}(x[0-9]{1,10})?|\b[0-9]{3}-[0-9]{3}-[0-9]{4}\b`)

func mask(s string) string {
	return numberLike.ReplaceAllStringFunc(s, func(n string) string {
		if strings.HasPrefix(n, "+") {
			return phone.Mask(n)
		}
		return "***-***-*" + n[len(n)-3:]
	})
}

func section(title string) { fmt.Printf("\n=== %s\n", title) }

// shellQuote prints arguments as one would type them in a shell.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \"'(){}[]?$*") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}
