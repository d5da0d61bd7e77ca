package privileged

import (
	"context"
	"fmt"
	"strings"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/internal/graph"
)

// Set is a tenant's privileged principals: lower-case object id → why it is privileged.
type Set map[string]string

// Why returns why the object id is privileged, and whether it is.
func (s Set) Why(id string) (string, bool) {
	why, ok := s[strings.ToLower(id)]
	return why, ok
}

// add records id unless it is already known (the first reason found is kept).
func (s Set) add(id, why string) {
	if _, ok := s[strings.ToLower(id)]; !ok && id != "" {
		s[strings.ToLower(id)] = why
	}
}

// Load reads who holds a directory role in the tenant: the principals of active and eligible
// role assignments, and every transitive member of a group principal. Calls: one GET per page
// of each listing, plus one per page of each group principal's members.
func Load(ctx context.Context, r graph.RoleReader) (Set, error) {
	set := Set{}
	groups := map[string]string{} // lower-case group id → how the group holds a role
	collect := func(how string) func([]graph.RoleAssignment) error {
		return func(page []graph.RoleAssignment) error {
			for _, a := range page {
				why := fmt.Sprintf("%s directory role %s", how, a.RoleDefinitionID)
				set.add(a.PrincipalID, why)
				if a.IsGroup() {
					if _, seen := groups[strings.ToLower(a.PrincipalID)]; !seen {
						groups[strings.ToLower(a.PrincipalID)] = why
					}
				}
			}
			return nil
		}
	}
	if err := r.ListRoleAssignments(ctx, collect("holds the active")); err != nil {
		return nil, err
	}
	if err := r.ListRoleEligibilities(ctx, collect("is eligible (PIM) for the")); err != nil {
		return nil, err
	}
	for id, why := range groups {
		err := r.ListGroupUsers(ctx, id, true, func(users []graph.User) error {
			for _, u := range users {
				set.add(u.ID, fmt.Sprintf("is a member of role-assignable group %s, which %s", id, strings.TrimPrefix(why, "is ")))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return set, nil
}

// Input is what Decide judges: the tenant's user scope, the resolved user, and the tenant's
// privileged set (or why it could not be read). Privileged and LoadErr are consulted only when
// the scope does not allow privileged users.
type Input struct {
	// Tenant is the EntraTenant's name, for messages.
	Tenant string
	// Scope is the tenant's spec.userScope.
	Scope identityv1alpha1.UserScope
	// User is the resolved user (its userType read).
	User graph.User
	// Privileged is the tenant's privileged set; LoadErr is why it could not be read (then
	// Privileged is ignored and every user is refused: fail closed).
	Privileged Set
	LoadErr    error
}

// IsGuest reports a guest: userType Guest, or a UPN that carries #EXT# (a B2B account).
func IsGuest(u graph.User) bool {
	return strings.EqualFold(u.UserType, "Guest") || strings.Contains(strings.ToUpper(u.UserPrincipalName), "#EXT#")
}

// NeedsPrivilegedSet reports whether Decide will look at the privileged set, so that a caller
// reads it only then.
func NeedsPrivilegedSet(scope identityv1alpha1.UserScope) bool { return !scope.AllowPrivilegedUsers }

// Decide returns the reason and a one-sentence message when the user is refused. Guests are
// judged first (no Graph read needed), then directory roles; a privileged set that could not
// be read refuses everyone.
func Decide(in Input) (reason, message string, refused bool) {
	if !in.Scope.AllowGuests && IsGuest(in.User) {
		return identityv1alpha1.ReasonGuestUser, fmt.Sprintf(
			"User %s is a guest (userType %q); EntraTenant %q does not allow guests, so phoneop makes no phone-method call for it; set spec.userScope.allowGuests to manage guests",
			in.User.ID, in.User.UserType, in.Tenant), true
	}
	if in.Scope.AllowPrivilegedUsers {
		return "", "", false
	}
	if in.LoadErr != nil {
		return identityv1alpha1.ReasonPrivilegedUsersUnknown, fmt.Sprintf(
			"phoneop could not read who holds directory roles in EntraTenant %q (%v), so it refuses every user of the tenant; grant the app RoleManagement.Read.Directory and GroupMember.Read.All, or set spec.userScope.allowPrivilegedUsers",
			in.Tenant, in.LoadErr), true
	}
	if why, ok := in.Privileged.Why(in.User.ID); ok {
		return identityv1alpha1.ReasonPrivilegedUser, fmt.Sprintf(
			"User %s %s; Entra lets only a Privileged Authentication Administrator manage an admin's methods, so phoneop makes no phone-method call for it unless EntraTenant %q sets spec.userScope.allowPrivilegedUsers",
			in.User.ID, why, in.Tenant), true
	}
	return "", "", false
}
