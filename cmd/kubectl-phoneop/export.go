package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/connect"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/export"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
)

type exportFlags struct {
	namespace      string
	outputDir      string
	secretsDir     string
	inline         bool
	policy         string
	smsSignIn      bool
	includeManaged bool
	resume         bool
}

func newExportCommand(c *common) *cobra.Command {
	var ef exportFlags
	cmd := &cobra.Command{
		Use:   "export --tenant NAME --namespace NS [--domain D | --group ID | --users-file F]",
		Short: "Write the tenant's existing phone methods as PhoneAuthMethods for Git (reads Graph, never writes)",
		Long: `export reads the selected users' phone methods (GET …/authentication/phoneMethods, 20 users per
$batch, through phoneop's per-tenant throttle) and writes, under --output-dir:

  <namespace>/<user>.yaml        the user's PhoneAuthMethods (managementPolicy ObserveOnly unless
                                 --policy says otherwise; deletionPolicy Orphan)
  <namespace>/kustomization.yaml one per namespace, and kustomization.yaml at the top
  export-summary.yaml            counts, and every phone left out with the reason (numbers masked)

and the numbers as one Secret per user under --secrets-dir (referenced by spec.phoneNumberFrom),
outside the Git directory: seal them before committing (README.md there says how), or use
--inline-numbers to put them in spec.phoneNumber instead. Files holding numbers are written
0600 in directories created 0700; a rerun never loosens an existing file's mode.

Nothing is exported as if it were real when Graph shows a number masked or empty, or one that
does not parse: that phone is left out and listed. Phones another PhoneAuthMethod of the tenant
already manages are left out too, and so are users outside the EntraTenant's userScope.

The output is deterministic (sorted, no timestamps): rerunning on an unchanged tenant changes no
byte, so Git shows exactly what changed in Graph; files of users who no longer have phones are
removed. An interrupted run continues with --resume, reading only the users it had not finished.`,
		Example: `  # every user of contoso.com, ObserveOnly, numbers in ./contoso-phones-secrets
  kubectl phoneop export --tenant contoso --domain contoso.com --namespace team-a --output-dir contoso-phones

  # from a laptop without the cluster, signed in with az login (or AZURE_* of the read-only app)
  kubectl phoneop export --tenant contoso --tenant-id 72f988bf-… --group 0d1f… --namespace team-a

  # namespaces per user from a file ("kim@contoso.com team-a" per line)
  kubectl phoneop export --tenant contoso --users-file users.txt --output-dir phones`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd, c, ef) },
	}
	c.selectionFlags(cmd, "export")
	f := cmd.Flags()
	f.StringVar(&ef.outputDir, "output-dir", "phoneop-export", "directory for the PhoneAuthMethods, kustomizations and summary (the part that goes to Git)")
	f.StringVar(&ef.secretsDir, "secrets-dir", "", "directory for the Secrets holding the numbers, outside --output-dir (default: <output-dir>-secrets)")
	f.BoolVar(&ef.inline, "inline-numbers", false, "put the numbers in spec.phoneNumber instead of Secrets (they then end up in Git in clear)")
	f.StringVar(&ef.policy, "policy", string(identityv1alpha1.ManagementPolicyObserveOnly), "spec.managementPolicy of every object: any value the PhoneAuthMethod CRD allows (ObserveOnly: report only, never write; Full: converge Graph to the spec)")
	f.BoolVar(&ef.smsSignIn, "sms-sign-in", true, "set spec.smsSignIn on mobiles from Graph's state (ready: Enabled, notEnabled: Disabled, otherwise left unmanaged); false leaves SMS sign-in unmanaged everywhere")
	f.BoolVar(&ef.includeManaged, "include-managed", false, "also export phones that PhoneAuthMethods of this tenant already manage (they would conflict)")
	f.BoolVar(&ef.resume, "resume", false, "continue an interrupted export in the same --output-dir, reading only the users it had not finished")
	return cmd
}

func runExport(cmd *cobra.Command, c *common, ef exportFlags) error {
	ctx := cmd.Context()
	ef.namespace = c.namespace() // kubectl's --namespace/-n, a flag of the root command
	if ef.secretsDir == "" {
		ef.secretsDir = filepath.Clean(ef.outputDir) + "-secrets"
	}
	if !ef.inline && inside(ef.secretsDir, ef.outputDir) {
		return usagef("--secrets-dir %s is inside --output-dir %s: keep the numbers outside the Git directory, or use --inline-numbers", ef.secretsDir, ef.outputDir)
	}
	if ef.namespace == "" && c.sel.File == "" {
		return usagef("set --namespace to the namespace the PhoneAuthMethods go to (one the EntraTenant allows)")
	}
	began := time.Now()
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	if err := checkPolicy(ctx, conn.Kube, ef.policy); err != nil {
		return err
	}
	users, noUPN, err := c.resolveUsers(ctx, conn.Graph)
	if err != nil {
		return err
	}
	if ef.namespace == "" {
		for _, u := range users {
			if u.Namespace == "" {
				return usagef("%s names no namespace for %s: add one to that line or set --namespace", c.sel.File, u.UPN)
			}
		}
	}
	o := export.Options{TenantRef: c.conn.Tenant, TenantID: conn.TenantID, Selection: c.sel.Describe(),
		Namespace: ef.namespace, Policy: identityv1alpha1.ManagementPolicy(ef.policy), InlineNumbers: ef.inline,
		SMSSignIn: ef.smsSignIn, OutputDir: ef.outputDir, SecretsDir: ef.secretsDir, Resume: ef.resume,
		Concurrency: c.concurrency}
	if conn.EntraTenant != nil {
		o.Scope = &conn.EntraTenant.Spec.UserScope
		for _, ns := range namespacesOf(users, ef.namespace) {
			if note := namespaceNote(ctx, conn.Kube, conn.EntraTenant, ns); note != "" {
				fmt.Fprintln(os.Stderr, note)
			}
		}
	}
	if conn.Kube != nil && !ef.includeManaged {
		// Every namespace: a phone managed in another team's namespace would conflict too.
		m, err := managedPhones(ctx, conn.Kube, c.conn.Tenant, "")
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: cannot list PhoneAuthMethods (%v): phones already managed are not left out\n", err)
		} else {
			o.Managed = m.phones
		}
	}
	if out, tty := c.progressOut(); out != nil {
		o.Progress, o.TTY = out, tty
	}
	res, err := export.Run(ctx, conn.Graph, users, o)
	if err != nil {
		return fmt.Errorf("%s", connect.Explain(err, "reading phone methods"))
	}
	for _, u := range noUPN {
		res.LeftOut = append(res.LeftOut, export.LeftOut{User: u.ID, Reason: "the app may not read this group member's userPrincipalName: grant User.Read.All"})
	}
	printExportSummary(cmd.OutOrStdout(), res, o, c.requests.Load(), time.Since(began))
	if len(res.Failed) > 0 {
		return incompleteError{msg: fmt.Sprintf("%d users could not be read: rerun the same command with --resume", len(res.Failed))}
	}
	return nil
}

// namespacesOf lists the namespaces the objects go to.
func namespacesOf(users []selection.User, def string) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range users {
		ns := u.Namespace
		if ns == "" {
			ns = def
		}
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}

func inside(dir, parent string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(parent)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(p, d)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func printExportSummary(w io.Writer, res *export.Result, o export.Options, requests int64, took time.Duration) {
	fmt.Fprintf(w, "Exported %d PhoneAuthMethods (%s) for %d of %d users in %s: %d Graph requests (%d batches of up to 20 reads",
		res.Objects, res.ManagementPolicy, res.UsersWithPhones, res.Users, took.Round(100*time.Millisecond), requests, res.Batches)
	if res.Resumed > 0 {
		fmt.Fprintf(w, "; %d users taken from the interrupted run", res.Resumed)
	}
	fmt.Fprintln(w, ").")
	var nss []string
	for ns := range res.Namespaces {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		t := res.Namespaces[ns]
		fmt.Fprintf(w, "  %s: %d mobile, %d alternateMobile, %d office\n", ns, t["mobile"], t["alternateMobile"], t["office"])
	}
	if n := len(res.LeftOut); n > 0 {
		fmt.Fprintf(w, "Left out %d (all listed in %s):\n", n, filepath.Join(o.OutputDir, "export-summary.yaml"))
		for i, l := range res.LeftOut {
			if i == 10 {
				fmt.Fprintf(w, "  … and %d more\n", n-10)
				break
			}
			// l.Number is masked already (export never keeps a clear number in LeftOut).
			fmt.Fprintf(w, "  %s\n", strings.Join(nonEmpty(l.User, l.PhoneType, l.Number), " ")+": "+l.Reason)
		}
	}
	for _, d := range res.LooseDirs {
		fmt.Fprintf(w, "Warning: %s holds phone numbers and others than you may list it: chmod 700 %s\n", d, d)
	}
	fmt.Fprintf(w, "Next: review %s in Git", o.OutputDir)
	if !o.InlineNumbers {
		fmt.Fprintf(w, "; seal the Secrets in %s (see its README.md) or kubectl apply -k %s", o.SecretsDir, o.SecretsDir)
	}
	fmt.Fprintf(w, "; then kubectl apply -k %s\n", o.OutputDir)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
