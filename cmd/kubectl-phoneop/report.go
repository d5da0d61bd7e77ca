package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/connect"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/report"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
)

type reportFlags struct {
	scope, output, list string
	smsSignIn           bool
	sharedNumbers       bool
}

func newReportCommand(c *common) *cobra.Command {
	var rf reportFlags
	cmd := &cobra.Command{
		Use:   "report --tenant NAME [--scope tenant|managed] [--sms-sign-in | --shared-numbers] [-o table|csv|json]",
		Short: "List the users whose only MFA methods are phones (read-only)",
		Long: `report reads every selected user's authentication methods (GET /users/{id}/authentication/methods,
20 users per $batch, through phoneop's per-tenant throttle; the app needs
UserAuthenticationMethod.Read.All) and sorts the users into:

  phonesOnly      one or more phones (mobile, alternateMobile, office) and no other MFA method:
                  at risk when Microsoft-provided SMS and voice end (2027-02-01, public cloud),
                  they must register a passkey at sign-in unless the tenant brings a telecom provider
  phonesAndOther  phones and a passkey/FIDO2 key, the Authenticator app, Windows Hello, an OATH
                  token, a platform credential or an external MFA method
  otherOnly       MFA methods, none of them a phone
  noMFA           none of those (a password, email or temporary access pass does not count)

and counts the at-risk users per namespace (of the PhoneAuthMethods naming them; "(unmanaged)"
for the others) and per phone type. --scope managed reads only the users PhoneAuthMethods of
the tenant name; -n reads only that namespace's PhoneAuthMethods (the tenant's objects are
selected by the API server on spec.tenantRef.name). Numbers are never printed. It never writes,
and its Graph requests are sent at x-ms-throttle-priority low.

--sms-sign-in shows instead who signs in with SMS today (smsSignInState ready on their
mobile; Microsoft retires SMS sign-in in the public cloud, docs/sms-retirement.md), counted by
namespace and population: administrators (any directory role, active or eligible, directly or
through a group; the app needs RoleManagement.Read.Directory, else they count as members),
guests (userType Guest) and members. It reads each such user's userType (20 per $batch).

--shared-numbers shows instead the groups of users whose phones carry one number (compared in
canonical form: E.164 and extension), as incident responders ask. Each number is replaced, as
soon as it is read, by an HMAC under a key drawn at random for this run: the plugin keeps no
list of numbers, and prints users, their phone types and the group's size, never a number or
a hash. Masked or unreadable numbers are counted, not compared.`,
		Example: `  kubectl phoneop report --tenant contoso
  kubectl phoneop report --tenant contoso --scope managed -o csv > at-risk.csv
  kubectl phoneop report --tenant contoso --sms-sign-in
  kubectl phoneop report --tenant contoso --shared-numbers -o json
  kubectl phoneop report --tenant contoso --domain contoso.com -o json --list all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReport(cmd, c, rf) },
	}
	c.selectionFlags(cmd, "with --scope tenant, read")
	f := cmd.Flags()
	f.StringVar(&rf.scope, "scope", "tenant", "tenant: the selected users of the tenant (all by default); managed: only the users PhoneAuthMethods of --tenant name (needs the kubeconfig)")
	f.StringVarP(&rf.output, "output", "o", "table", "table (counts, then the listed users), csv (one row per listed user) or json (everything)")
	f.StringVar(&rf.list, "list", "at-risk", "which users to list: at-risk (phonesOnly), all, or none (counts only); with --sms-sign-in, none lists nobody and the others list the SMS sign-in users")
	f.BoolVar(&rf.smsSignIn, "sms-sign-in", false, "show who signs in with SMS today (smsSignInState ready), counted by namespace and population (administrators, guests, members), instead of the phones-only view")
	f.BoolVar(&rf.sharedNumbers, "shared-numbers", false, "show the groups of users who share one phone number (compared by keyed hash, never printed), instead of the phones-only view")
	return cmd
}

func runReport(cmd *cobra.Command, c *common, rf reportFlags) error {
	ctx := cmd.Context()
	switch {
	case rf.scope != "tenant" && rf.scope != "managed":
		return usagef("--scope must be tenant or managed, not %q", rf.scope)
	case rf.output != "table" && rf.output != "csv" && rf.output != "json":
		return usagef("--output must be table, csv or json, not %q", rf.output)
	case rf.list != "at-risk" && rf.list != "all" && rf.list != "none":
		return usagef("--list must be at-risk, all or none, not %q", rf.list)
	case rf.scope == "managed" && (len(c.sel.Domains) > 0 || c.sel.Group != "" || c.sel.File != ""):
		return usagef("--domain, --group and --users-file select users of the tenant: use them with --scope tenant")
	case rf.smsSignIn && rf.sharedNumbers:
		return usagef("--sms-sign-in and --shared-numbers are two views: ask for one per run")
	}
	began := time.Now()
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	m := &managed{}
	if conn.Kube != nil {
		if m, err = managedPhones(ctx, conn.Kube, c.conn.Tenant, c.namespace()); err != nil {
			m = &managed{}
			if rf.scope == "managed" {
				return fmt.Errorf("cannot list PhoneAuthMethods (%v): --scope managed needs list on phoneauthmethods.identity.phoneop.dev", err)
			}
			fmt.Fprintf(os.Stderr, "warning: cannot list PhoneAuthMethods (%v): every user shows as %s\n", err, report.Unmanaged)
		}
	} else if rf.scope == "managed" {
		return usagef("--scope managed reads the PhoneAuthMethods from the cluster: set --kubeconfig/--context")
	}
	var users []selection.User
	sel := c.sel.Describe()
	if rf.scope == "managed" {
		users, sel = m.users, "users managed by PhoneAuthMethods of "+c.conn.Tenant
	} else if users, _, err = c.resolveUsers(ctx, conn.Graph); err != nil {
		return err
	}
	o := report.Options{Namespaces: m.namespaces, Concurrency: c.concurrency}
	if rf.sharedNumbers {
		if o.HashKey, err = report.NewHashKey(); err != nil {
			return err
		}
	}
	if out, tty := c.progressOut(); out != nil {
		o.Progress, o.TTY = out, tty
	}
	rep, err := report.Run(ctx, conn.Graph, users, c.conn.Tenant, sel, rf.list, o)
	if err != nil {
		return fmt.Errorf("%s", connect.Explain(err, "reading authentication methods"))
	}
	if err := writeReport(cmd, conn.Graph, rep, rf); err != nil {
		return err
	}
	if !c.noProgress {
		fmt.Fprintf(os.Stderr, "read %d users in %s: %d Graph requests (%d batches of up to 20 reads)\n",
			len(users), time.Since(began).Round(100*time.Millisecond), c.requests.Load(), rep.Batches)
	}
	if len(rep.Failed) > 0 {
		return incompleteError{msg: fmt.Sprintf("%d users could not be read: rerun", len(rep.Failed))}
	}
	return nil
}

// writeReport prints the view the flags ask for.
func writeReport(cmd *cobra.Command, g report.PopulationReader, rep *report.Report, rf reportFlags) error {
	out := cmd.OutOrStdout()
	switch {
	case rf.sharedNumbers:
		return rep.SharedNumbers().Write(out, rf.output)
	case rf.smsSignIn:
		v, err := rep.SMSSignIn(cmd.Context(), g, rf.list != "none")
		if err != nil {
			return fmt.Errorf("%s", connect.Explain(err, "reading the SMS sign-in users' userType and the tenant's directory roles"))
		}
		return v.Write(out, rf.output)
	}
	return rep.Write(out, rf.output)
}
