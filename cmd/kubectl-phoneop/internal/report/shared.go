package report

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/phone"
)

// Shared numbers: incident responders ask which users share one MFA number (Graph enforces
// uniqueness only for SMS sign-in numbers, and sign-in logs show partial numbers only). The
// report answers without ever holding a list of numbers: each number is read from Graph's
// answer, put in its canonical form (internal/phone: E.164 plus extension, so "+1 206-555-0100"
// and "+12065550100" match), and replaced at once by an HMAC under a key drawn at random for
// this run. Groups are keyed by that HMAC; the output names users and phone types, never a
// number or a hash, and a hash from one run cannot be compared with another run's.

// keyedPhone is one of a user's phones: the keyed hash of its number, and its type.
type keyedPhone struct {
	mac       string // raw HMAC-SHA256 bytes, as a map key
	phoneType string
}

// NewHashKey returns a random HMAC key for one run.
func NewHashKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// keyPhones hashes the user's readable phone numbers under key; unreadable counts the
// phones whose number is masked (a reader without full rights) or not a number, which
// cannot be compared.
func keyPhones(key []byte, methods []graph.AuthenticationMethod) (phones []keyedPhone, unreadable int) {
	for _, m := range methods {
		if m.Kind() != "phone" {
			continue
		}
		mac, ok := keyNumber(key, m.PhoneNumber)
		if !ok {
			unreadable++
			continue
		}
		phones = append(phones, keyedPhone{mac: mac, phoneType: m.PhoneType})
	}
	return phones, unreadable
}

// keyNumber is the HMAC of the number's canonical form (E.164 and extension, the two
// things phone.Equal compares); false when it is masked or not a number.
func keyNumber(key []byte, number string) (string, bool) {
	if phone.IsMasked(number) {
		return "", false
	}
	n, err := phone.Parse(phone.Normalize(number))
	if err != nil {
		return "", false
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(n.E164() + "x" + n.Extension))
	return string(h.Sum(nil)), true
}

// SharedMember is one user in a group, with the types of their phones that carry the
// group's number.
type SharedMember struct {
	User       string   `json:"user"`
	UserID     string   `json:"userId,omitempty"`
	Namespace  string   `json:"namespace"`
	PhoneTypes []string `json:"phoneTypes"`
}

// SharedGroup is a set of two or more users whose phones carry one number. Group numbers
// are assigned in output order (largest group first) and mean nothing across runs.
type SharedGroup struct {
	Group   int            `json:"group"`
	Size    int            `json:"users"`
	Members []SharedMember `json:"members"`
}

// SharedView is the --shared-numbers report.
type SharedView struct {
	Tenant    string `json:"tenant"`
	Selection string `json:"selection"`
	Users     int    `json:"users"`
	// Phones counts the phones compared; Unreadable those that could not be (masked or
	// not a number).
	Phones     int           `json:"phonesCompared"`
	Unreadable int           `json:"phonesNotCompared"`
	Groups     []SharedGroup `json:"groups"`
	Failed     []string      `json:"failed,omitempty"`
}

// SharedNumbers groups the report's users by the keyed hashes of their numbers (Run with
// Options.HashKey).
func (r *Report) SharedNumbers() *SharedView {
	v := &SharedView{Tenant: r.Tenant, Selection: r.Selection, Users: r.Users, Failed: r.Failed, Groups: groupShared(r.all)}
	for _, u := range r.all {
		v.Phones += len(u.phones)
		v.Unreadable += u.unreadable
	}
	return v
}

// groupShared returns the groups of two or more distinct users that share a number hash,
// largest first, then by first member; members sorted by user. A user whose mobile and
// office carry the same number is one member with two phone types, not a group.
func groupShared(users []User) []SharedGroup {
	byMac := map[string][]SharedMember{}
	for _, u := range users {
		for _, p := range u.phones {
			members := byMac[p.mac]
			if i := slices.IndexFunc(members, func(m SharedMember) bool { return m.User == u.User && m.UserID == u.UserID }); i >= 0 {
				members[i].PhoneTypes = append(members[i].PhoneTypes, p.phoneType)
				continue
			}
			byMac[p.mac] = append(members, SharedMember{User: u.User, UserID: u.UserID, Namespace: u.Namespace, PhoneTypes: []string{p.phoneType}})
		}
	}
	var groups []SharedGroup
	for _, members := range byMac {
		if len(members) < 2 {
			continue
		}
		for i := range members {
			slices.SortFunc(members[i].PhoneTypes, func(a, b string) int { return cmp.Compare(phoneOrder(a), phoneOrder(b)) })
		}
		slices.SortFunc(members, func(a, b SharedMember) int {
			return cmp.Or(cmp.Compare(strings.ToLower(a.User), strings.ToLower(b.User)), cmp.Compare(a.UserID, b.UserID))
		})
		groups = append(groups, SharedGroup{Size: len(members), Members: members})
	}
	slices.SortFunc(groups, func(a, b SharedGroup) int {
		return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(strings.ToLower(a.Members[0].User), strings.ToLower(b.Members[0].User)))
	})
	for i := range groups {
		groups[i].Group = i + 1
	}
	return groups
}

// Write prints the view as "table", "csv" (one row per member) or "json".
func (v *SharedView) Write(w io.Writer, format string) error {
	return write(w, format, v, v.table, func(cw *csv.Writer) {
		_ = cw.Write([]string{"group", "groupSize", "user", "userId", "namespace", "phoneTypes"})
		for _, g := range v.Groups {
			for _, m := range g.Members {
				_ = cw.Write([]string{strconv.Itoa(g.Group), strconv.Itoa(g.Size), m.User, m.UserID, m.Namespace, strings.Join(m.PhoneTypes, " ")})
			}
		}
	})
}

func (v *SharedView) table(w io.Writer) error {
	shared := 0
	for _, g := range v.Groups {
		shared += g.Size
	}
	fmt.Fprintf(w, "Tenant %s, %s: %d users read, %d phones compared (%d masked or unreadable, not compared): %d groups of users share a number, %d users in all. Numbers are never shown.\n",
		v.Tenant, v.Selection, v.Users, v.Phones, v.Unreadable, len(v.Groups), shared)
	if len(v.Groups) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tUSERS\tUSER\tUSER ID\tNAMESPACE\tPHONES")
		for _, g := range v.Groups {
			for _, m := range g.Members {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", g.Group, g.Size, m.User, dash(m.UserID), m.Namespace, strings.Join(m.PhoneTypes, ","))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	writeFailed(w, v.Failed)
	return nil
}

// writeFailed lists the users that could not be read.
func writeFailed(w io.Writer, failed []string) {
	if len(failed) > 0 {
		fmt.Fprintf(w, "\n%d users could not be read (rerun to try them again):\n", len(failed))
		for _, f := range failed {
			fmt.Fprintln(w, "  "+f)
		}
	}
}
