package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/privileged"
)

// The SMS sign-in view: who signs in with SMS today (smsSignInState ready on their mobile),
// which Microsoft retires in the public cloud (Global Administrators and external users
// later than everyone else; docs/sms-retirement.md), counted by namespace and population.

// Populations, in the order the retirement dates and the owners of the clean-up differ.
const (
	// PopulationAdministrator holds a directory role, active or eligible, directly or through
	// a role-assignable group (internal/privileged's rule).
	PopulationAdministrator = "administrator"
	// PopulationGuest is userType Guest (or a #EXT# account).
	PopulationGuest = "guest"
	// PopulationMember is everyone else.
	PopulationMember = "member"
)

// PopulationReader is what the view reads besides the methods: the users' userType and the
// tenant's directory roles. *graph.Client implements it.
type PopulationReader interface {
	BatchGets(ctx context.Context, op string, reqs []graph.BatchGet) ([]graph.BatchAnswer, error)
	graph.RoleReader
}

var _ PopulationReader = (*graph.Client)(nil)

// SMSCount is one namespace's SMS sign-in users by population.
type SMSCount struct {
	Namespace      string `json:"namespace"`
	Administrators int    `json:"administrators"`
	Guests         int    `json:"guests"`
	Members        int    `json:"members"`
	Total          int    `json:"total"`
}

// SMSUser is one user who signs in with SMS.
type SMSUser struct {
	User       string `json:"user"`
	UserID     string `json:"userId,omitempty"`
	Namespace  string `json:"namespace"`
	Population string `json:"population"`
}

// SMSView is the --sms-sign-in report.
type SMSView struct {
	Tenant    string `json:"tenant"`
	Selection string `json:"selection"`
	Users     int    `json:"users"`
	SMSSignIn int    `json:"smsSignInReady"`
	// AdministratorsKnown is false when the app may not read directory roles
	// (RoleManagement.Read.Directory): administrators then count as members or guests.
	AdministratorsKnown bool       `json:"administratorsKnown"`
	Counts              []SMSCount `json:"byNamespace"`
	Listed              []SMSUser  `json:"listed"`
	Failed              []string   `json:"failed,omitempty"`
}

// SMSSignIn reads the population of every user of the report who signs in with SMS, and
// builds the view; listed says whether the users are listed beside the counts.
func (r *Report) SMSSignIn(ctx context.Context, g PopulationReader, listed bool) (*SMSView, error) {
	var ready []User
	for _, u := range r.all {
		if u.SMSSignIn {
			ready = append(ready, u)
		}
	}
	pops, adminsKnown, failed, err := populations(ctx, g, ready)
	if err != nil {
		return nil, err
	}
	v := buildSMSView(ready, pops, listed)
	v.Tenant, v.Selection, v.Users, v.AdministratorsKnown = r.Tenant, r.Selection, r.Users, adminsKnown
	v.Failed = append(append([]string{}, r.Failed...), failed...)
	return v, nil
}

// populations reads the users' userType (20 per $batch) and the tenant's privileged set, and
// returns each user's population ("" for a user that could not be read, listed in failed).
// A tenant whose directory roles the app may not read leaves adminsKnown false.
func populations(ctx context.Context, g PopulationReader, users []User) (pops []string, adminsKnown bool, failed []string, err error) {
	pops = make([]string, len(users))
	if len(users) == 0 {
		return pops, true, nil, nil
	}
	admins, err := privileged.Load(ctx, g)
	switch {
	case graph.IsForbidden(err):
		admins = privileged.Set{}
	case err != nil:
		return nil, false, nil, err
	default:
		adminsKnown = true
	}
	for start := 0; start < len(users); start += graph.MaxBatchParts {
		batch := users[start:min(start+graph.MaxBatchParts, len(users))]
		reqs := make([]graph.BatchGet, len(batch))
		for i, u := range batch {
			reqs[i] = graph.BatchGet{Path: "/users/" + url.PathEscape(userKey(u)) + "?$select=id,userPrincipalName,userType"}
		}
		answers, err := g.BatchGets(ctx, "getUsersBatch", reqs)
		if err != nil {
			return nil, false, nil, err
		}
		for i, a := range answers {
			var gu graph.User
			if a.Err == nil {
				a.Err = json.Unmarshal(a.Body, &gu)
			}
			switch {
			case graph.IsForbidden(a.Err):
				return nil, false, nil, a.Err
			case a.Err != nil:
				failed = append(failed, batch[i].User+": reading its userType failed")
			default:
				pops[start+i] = populationOf(gu, admins)
			}
		}
	}
	return pops, adminsKnown, failed, nil
}

// userKey addresses the user in Graph: the object id when known.
func userKey(u User) string {
	if u.UserID != "" {
		return u.UserID
	}
	return u.User
}

// populationOf is the user's population: an administrator first (whatever their userType),
// then a guest, else a member.
func populationOf(u graph.User, admins privileged.Set) string {
	if _, ok := admins.Why(u.ID); ok {
		return PopulationAdministrator
	}
	if privileged.IsGuest(u) {
		return PopulationGuest
	}
	return PopulationMember
}

// buildSMSView counts the users by namespace and population (users without a population,
// which could not be read, are left out), namespaces sorted with Unmanaged last.
func buildSMSView(users []User, pops []string, listed bool) *SMSView {
	v := &SMSView{Counts: []SMSCount{}, Listed: []SMSUser{}}
	byNS := map[string]*SMSCount{}
	for i, u := range users {
		if pops[i] == "" {
			continue
		}
		v.SMSSignIn++
		c := byNS[u.Namespace]
		if c == nil {
			c = &SMSCount{Namespace: u.Namespace}
			byNS[u.Namespace] = c
		}
		c.Total++
		switch pops[i] {
		case PopulationAdministrator:
			c.Administrators++
		case PopulationGuest:
			c.Guests++
		default:
			c.Members++
		}
		if listed {
			v.Listed = append(v.Listed, SMSUser{User: u.User, UserID: u.UserID, Namespace: u.Namespace, Population: pops[i]})
		}
	}
	for _, c := range byNS {
		v.Counts = append(v.Counts, *c)
	}
	sort.Slice(v.Counts, func(i, j int) bool { return nsLess(v.Counts[i].Namespace, v.Counts[j].Namespace) })
	sort.SliceStable(v.Listed, func(i, j int) bool { return strings.ToLower(v.Listed[i].User) < strings.ToLower(v.Listed[j].User) })
	return v
}

// Write prints the view as "table" (counts, then the users), "csv" (one row per user) or
// "json" (everything).
func (v *SMSView) Write(w io.Writer, format string) error {
	return write(w, format, v, v.table, func(cw *csv.Writer) {
		_ = cw.Write([]string{"user", "userId", "namespace", "population"})
		for _, u := range v.Listed {
			_ = cw.Write([]string{u.User, u.UserID, u.Namespace, u.Population})
		}
	})
}

func (v *SMSView) table(w io.Writer) error {
	fmt.Fprintf(w, "Tenant %s, %s: %d users read, %d sign in with SMS (smsSignInState ready).\n", v.Tenant, v.Selection, v.Users, v.SMSSignIn)
	if !v.AdministratorsKnown {
		fmt.Fprintln(w, "Administrators are not told apart (they count as members or guests): grant the app RoleManagement.Read.Directory to see them.")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tADMINISTRATORS\tGUESTS\tMEMBERS\tTOTAL")
	var total SMSCount
	for _, c := range v.Counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", c.Namespace, c.Administrators, c.Guests, c.Members, c.Total)
		total.Administrators += c.Administrators
		total.Guests += c.Guests
		total.Members += c.Members
		total.Total += c.Total
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\n", total.Administrators, total.Guests, total.Members, total.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(v.Listed) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tNAMESPACE\tPOPULATION")
		for _, u := range v.Listed {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.User, u.Namespace, u.Population)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	writeFailed(w, v.Failed)
	return nil
}
