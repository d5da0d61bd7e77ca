// Package selection decides which users the plugin reads: every user of the tenant, those
// of some UPN domains, a group's members (nested groups included), or a file of UPNs.
package selection

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/phoneop/phoneop/internal/graph"
)

// Selection is what the flags chose; at most one of Domains, Group and File is set, none
// meaning every user.
type Selection struct {
	Domains []string
	Group   string
	File    string
}

// User is one selected user. Namespace is set when the users file names one.
type User struct {
	ID, UPN, Namespace string
}

// Key is how the user is addressed in Graph calls: the object id when known, else the UPN.
func (u User) Key() string {
	if u.ID != "" {
		return u.ID
	}
	return u.UPN
}

// Describe says in words what is selected.
func (s Selection) Describe() string {
	switch {
	case len(s.Domains) > 0:
		return "users of " + strings.Join(s.Domains, ", ")
	case s.Group != "":
		return "members of group " + s.Group + " (nested groups included)"
	case s.File != "":
		return "users listed in " + s.File
	}
	return "every user of the tenant"
}

// Validate refuses combinations of selectors.
func (s Selection) Validate() error {
	n := 0
	for _, set := range []bool{len(s.Domains) > 0, s.Group != "", s.File != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("use only one of --domain, --group and --users-file")
	}
	return nil
}

// Resolve lists the selected users, sorted by UPN and without duplicates. Users the app may
// not read fully (a group member without a UPN) are returned in noUPN.
func Resolve(ctx context.Context, c *graph.Client, s Selection) (users []User, noUPN []User, err error) {
	seen := map[string]bool{}
	add := func(us []graph.User) error {
		for _, u := range us {
			k := strings.ToLower(u.ID)
			if seen[k] {
				continue
			}
			seen[k] = true
			if u.UserPrincipalName == "" {
				noUPN = append(noUPN, User{ID: u.ID})
				continue
			}
			users = append(users, User{ID: u.ID, UPN: u.UserPrincipalName})
		}
		return nil
	}
	switch {
	case s.File != "":
		users, err = ReadFile(s.File)
		return users, nil, err
	case s.Group != "":
		err = c.ListGroupUsers(ctx, s.Group, true, add)
	case len(s.Domains) > 0:
		for _, d := range s.Domains {
			if err = c.ListUsers(ctx, graph.UserQuery{Domain: d}, add); err != nil {
				break
			}
		}
	default:
		err = c.ListUsers(ctx, graph.UserQuery{}, add)
	}
	sort.Slice(users, func(i, j int) bool { return strings.ToLower(users[i].UPN) < strings.ToLower(users[j].UPN) })
	return users, noUPN, err
}

// ReadFile reads a users file: one UPN per line, optionally followed by the namespace its
// objects go to; blank lines and lines starting with # are skipped.
func ReadFile(path string) ([]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the users file: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a users file from r (name is for messages).
func Parse(r io.Reader, name string) ([]User, error) {
	var out []User
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		if len(fields) > 2 || !strings.Contains(fields[0], "@") || strings.Contains(fields[0], "/") {
			return nil, fmt.Errorf("%s:%d: want a userPrincipalName and optionally a namespace", name, line)
		}
		u := User{UPN: fields[0]}
		if len(fields) == 2 {
			u.Namespace = fields[1]
		}
		if k := strings.ToLower(u.UPN); !seen[k] {
			seen[k] = true
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].UPN) < strings.ToLower(out[j].UPN) })
	return out, sc.Err()
}
