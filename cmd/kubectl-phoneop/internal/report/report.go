// Package report finds the users whose only MFA methods are phones: after Microsoft
// retires its own SMS and voice delivery (2027-02-01, public cloud) they are made to register
// a passkey at sign-in unless the tenant brings a telecom provider. It reads
// /users/{id}/authentication/methods in batches of 20, through the tenant's throttle, and
// never writes.
package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/progress"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
)

// Reader is the part of the Graph client the report needs (reads only).
type Reader interface {
	ListAuthenticationMethodsBatch(ctx context.Context, userIDs []string) ([]graph.AuthenticationMethodsResult, error)
}

var _ Reader = (*graph.Client)(nil)

// Categories of users.
const (
	// PhonesOnly: one or more phones and no other MFA method — at risk.
	PhonesOnly = "phonesOnly"
	// PhonesAndOther: phones and at least one other MFA method.
	PhonesAndOther = "phonesAndOther"
	// OtherOnly: MFA methods, none of them a phone.
	OtherOnly = "otherOnly"
	// NoMFA: no MFA method at all (a password or email only): not affected by the SMS
	// retirement, but worth knowing.
	NoMFA = "noMFA"
)

// Unmanaged is the namespace column of users no PhoneAuthMethod names.
const Unmanaged = "(unmanaged)"

// strongKinds are the methods that remain a second factor without Microsoft's SMS and voice
// delivery. Password, email (self-service password reset only) and a temporary access pass
// (short-lived, for onboarding) are not; a kind Graph adds later is not counted either, so
// the report errs on the side of listing a user.
var strongKinds = map[string]bool{
	"fido2": true, "microsoftAuthenticator": true, "windowsHelloForBusiness": true,
	"softwareOath": true, "platformCredential": true, "external": true,
}

// Options configure Run.
type Options struct {
	// Namespaces maps a lower-case user key (UPN or object id) to the namespaces of the
	// PhoneAuthMethods that name it; users without an entry are Unmanaged.
	Namespaces map[string][]string
	// Concurrency is how many batches are in flight; 0 means 4.
	Concurrency int
	// HashKey, when set, keys an HMAC of every readable phone number (SharedNumbers): the
	// numbers themselves are not kept. NewHashKey makes a random one per run.
	HashKey  []byte
	Progress io.Writer
	TTY      bool
}

// User is one user's verdict. Phone numbers are never part of it.
type User struct {
	User         string   `json:"user"`
	UserID       string   `json:"userId,omitempty"`
	Namespace    string   `json:"namespace"`
	Category     string   `json:"category"`
	PhoneTypes   []string `json:"phoneTypes,omitempty"`
	SMSSignIn    bool     `json:"smsSignInReady"`
	OtherMethods []string `json:"otherMethods,omitempty"`

	// phones are the user's numbers as keyed hashes (Options.HashKey), for SharedNumbers.
	phones []keyedPhone
	// unreadable counts the user's phones whose number was masked or not a number.
	unreadable int
}

// Count is one namespace's at-risk users, by the phone types they have.
type Count struct {
	Namespace       string `json:"namespace"`
	AtRisk          int    `json:"atRisk"`
	Mobile          int    `json:"mobile"`
	AlternateMobile int    `json:"alternateMobile"`
	Office          int    `json:"office"`
	SMSSignInReady  int    `json:"smsSignInReady"`
}

// Report is the whole result.
type Report struct {
	Tenant     string         `json:"tenant"`
	Selection  string         `json:"selection"`
	Users      int            `json:"users"`
	Categories map[string]int `json:"categories"`
	AtRisk     int            `json:"atRisk"`
	Counts     []Count        `json:"byNamespace"`
	Listed     []User         `json:"listed"`
	Failed     []string       `json:"failed,omitempty"`
	Batches    int            `json:"-"`
	Duration   time.Duration  `json:"-"`

	// all are every user read, listed or not, for the SMS sign-in and shared-number views.
	all []User
}

// Run reads the users' methods and classifies them. list chooses which users are listed:
// "at-risk", "all" or "none".
func Run(ctx context.Context, g Reader, users []selection.User, tenant, sel, list string, o Options) (*Report, error) {
	began := time.Now()
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	rows := make([]User, len(users))
	failed := make([]string, len(users))
	bar := progress.New(o.Progress, "report", "users", len(users), o.TTY)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(o.Concurrency)
	var mu sync.Mutex
	batches := 0
	for start := 0; start < len(users); start += graph.MaxBatchParts {
		end := min(start+graph.MaxBatchParts, len(users))
		eg.Go(func() error {
			keys := make([]string, 0, end-start)
			for _, u := range users[start:end] {
				keys = append(keys, u.Key())
			}
			res, err := g.ListAuthenticationMethodsBatch(ectx, keys)
			if err != nil {
				return err
			}
			for i, r := range res {
				u := users[start+i]
				switch {
				case graph.IsForbidden(r.Err):
					return r.Err
				case r.Err != nil:
					failed[start+i] = u.UPN + ": " + r.Err.Error()
				default:
					rows[start+i] = classify(u, r.Methods, o.Namespaces)
					if o.HashKey != nil {
						rows[start+i].phones, rows[start+i].unreadable = keyPhones(o.HashKey, r.Methods)
					}
				}
			}
			mu.Lock()
			batches++
			mu.Unlock()
			bar.Add(end - start)
			return nil
		})
	}
	err := eg.Wait()
	bar.Finish()
	if err != nil {
		return nil, err
	}
	rep := &Report{Tenant: tenant, Selection: sel, Categories: map[string]int{}, Batches: batches, Listed: []User{}, Counts: []Count{}}
	byNS := map[string]*Count{}
	for i, r := range rows {
		if failed[i] != "" {
			rep.Failed = append(rep.Failed, failed[i])
			continue
		}
		rep.Users++
		rep.all = append(rep.all, r)
		rep.Categories[r.Category]++
		if list == "all" || (list == "at-risk" && r.Category == PhonesOnly) {
			rep.Listed = append(rep.Listed, r)
		}
		if r.Category != PhonesOnly {
			continue
		}
		rep.AtRisk++
		c := byNS[r.Namespace]
		if c == nil {
			c = &Count{Namespace: r.Namespace}
			byNS[r.Namespace] = c
		}
		c.AtRisk++
		for _, t := range r.PhoneTypes {
			switch t {
			case graph.PhoneTypeMobile:
				c.Mobile++
			case graph.PhoneTypeAlternateMobile:
				c.AlternateMobile++
			case graph.PhoneTypeOffice:
				c.Office++
			}
		}
		if r.SMSSignIn {
			c.SMSSignInReady++
		}
	}
	for _, c := range byNS {
		rep.Counts = append(rep.Counts, *c)
	}
	sort.Slice(rep.Counts, func(i, j int) bool { return nsLess(rep.Counts[i].Namespace, rep.Counts[j].Namespace) })
	rep.Duration = time.Since(began)
	return rep, nil
}

// nsLess sorts namespaces by name with Unmanaged last.
func nsLess(a, b string) bool {
	if (a == Unmanaged) != (b == Unmanaged) {
		return b == Unmanaged
	}
	return a < b
}

// classify decides one user's category from their methods.
func classify(u selection.User, methods []graph.AuthenticationMethod, namespaces map[string][]string) User {
	r := User{User: u.UPN, UserID: u.ID, Namespace: Unmanaged}
	if r.User == "" {
		r.User = u.ID
	}
	var ns []string
	for _, k := range []string{u.UPN, u.ID} {
		if k != "" {
			ns = append(ns, namespaces[strings.ToLower(k)]...)
		}
	}
	if len(ns) > 0 {
		sort.Strings(ns)
		r.Namespace = strings.Join(uniq(ns), ",")
	}
	other := map[string]bool{}
	for _, m := range methods {
		switch k := m.Kind(); {
		case k == "phone":
			r.PhoneTypes = append(r.PhoneTypes, m.PhoneType)
			if m.PhoneType == graph.PhoneTypeMobile && m.SMSSignInState == graph.SMSSignInReady {
				r.SMSSignIn = true
			}
		case strongKinds[k]:
			other[k] = true
		}
	}
	for k := range other {
		r.OtherMethods = append(r.OtherMethods, k)
	}
	sort.Strings(r.OtherMethods)
	sort.Slice(r.PhoneTypes, func(i, j int) bool { return phoneOrder(r.PhoneTypes[i]) < phoneOrder(r.PhoneTypes[j]) })
	switch {
	case len(r.PhoneTypes) > 0 && len(other) == 0:
		r.Category = PhonesOnly
	case len(r.PhoneTypes) > 0:
		r.Category = PhonesAndOther
	case len(other) > 0:
		r.Category = OtherOnly
	default:
		r.Category = NoMFA
	}
	return r
}

func phoneOrder(t string) int {
	return map[string]int{graph.PhoneTypeMobile: 0, graph.PhoneTypeAlternateMobile: 1, graph.PhoneTypeOffice: 2}[t]
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Write prints the report as "table", "csv" or "json".
func (r *Report) Write(w io.Writer, format string) error {
	return write(w, format, r, r.table, func(cw *csv.Writer) {
		_ = cw.Write([]string{"user", "userId", "namespace", "category", "phoneTypes", "smsSignInReady", "otherMethods"})
		for _, u := range r.Listed {
			_ = cw.Write([]string{u.User, u.UserID, u.Namespace, u.Category, strings.Join(u.PhoneTypes, " "),
				strconv.FormatBool(u.SMSSignIn), strings.Join(u.OtherMethods, " ")})
		}
	})
}

// write prints a view in one of the formats every report view offers: "json" (all of v),
// "csv" (the rows csvRows writes) or "table" (the default).
func write(w io.Writer, format string, v any, table func(io.Writer) error, csvRows func(*csv.Writer)) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "csv":
		cw := csv.NewWriter(w)
		csvRows(cw)
		cw.Flush()
		return cw.Error()
	case "table", "":
		return table(w)
	}
	return fmt.Errorf("unknown output format %q: use table, csv or json", format)
}

func (r *Report) table(w io.Writer) error {
	fmt.Fprintf(w, "Tenant %s, %s: %d users read, %d with phones as their only MFA method (%d phones and another method, %d other methods only, %d no MFA method).\n\n",
		r.Tenant, r.Selection, r.Users, r.AtRisk, r.Categories[PhonesAndOther], r.Categories[OtherOnly], r.Categories[NoMFA])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tAT RISK\tMOBILE\tALTERNATE MOBILE\tOFFICE\tSMS SIGN-IN READY")
	var total Count
	for _, c := range r.Counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", c.Namespace, c.AtRisk, c.Mobile, c.AlternateMobile, c.Office, c.SMSSignInReady)
		total.AtRisk += c.AtRisk
		total.Mobile += c.Mobile
		total.AlternateMobile += c.AlternateMobile
		total.Office += c.Office
		total.SMSSignInReady += c.SMSSignInReady
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\t%d\n", total.AtRisk, total.Mobile, total.AlternateMobile, total.Office, total.SMSSignInReady)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Listed) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tNAMESPACE\tCATEGORY\tPHONES\tSMS SIGN-IN\tOTHER METHODS")
		for _, u := range r.Listed {
			sms := "-"
			if u.SMSSignIn {
				sms = "ready"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.User, u.Namespace, u.Category, strings.Join(u.PhoneTypes, ","), sms, dash(strings.Join(u.OtherMethods, ",")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Failed) > 0 {
		fmt.Fprintf(w, "\n%d users could not be read (rerun to try them again):\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintln(w, "  "+f)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
