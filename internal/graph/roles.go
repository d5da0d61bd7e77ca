package graph

import (
	"context"
	"net/url"
)

// Directory roles: who holds an Entra role, actively or as eligible (PIM). Both listings are
// tenant-wide and paged by @odata.nextLink; each page is one GET through the tenant's throttle.
// The principal is expanded (id and @odata.type only), so that a role-assignable group is told
// from a user without one more call per principal.

// RoleAssignment is one principal's hold on a directory role: an active assignment
// (unifiedRoleAssignment) or an eligible one (unifiedRoleEligibilityScheduleInstance).
type RoleAssignment struct {
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	// Principal is the expanded principal; its Type is Graph's @odata.type
	// ("#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.servicePrincipal"),
	// "" when Graph did not expand it.
	Principal struct {
		Type string `json:"@odata.type"`
		ID   string `json:"id"`
	} `json:"principal"`
}

// IsGroup reports whether the principal is a group (a role-assignable one, since only those
// can hold directory roles): its members hold the role too.
func (a RoleAssignment) IsGroup() bool { return a.Principal.Type == "#microsoft.graph.group" }

// RoleReader reads who holds directory roles, for the privileged-user guard
// (internal/privileged). Application permission RoleManagement.Read.Directory covers both
// listings; a group's members need GroupMember.Read.All.
type RoleReader interface {
	ListRoleAssignments(ctx context.Context, page func([]RoleAssignment) error) error
	ListRoleEligibilities(ctx context.Context, page func([]RoleAssignment) error) error
	ListGroupUsers(ctx context.Context, groupID string, transitive bool, page func([]User) error) error
}

var _ RoleReader = (*Client)(nil)

// roleQuery selects what the guard needs and expands the principal's type.
func roleQuery() string {
	v := url.Values{}
	v.Set("$select", "principalId,roleDefinitionId,directoryScopeId")
	v.Set("$expand", "principal($select=id)")
	return encodeQuery(v)
}

// ListRoleAssignments calls page with each page of the tenant's active directory role
// assignments (GET /roleManagement/directory/roleAssignments).
func (c *Client) ListRoleAssignments(ctx context.Context, page func([]RoleAssignment) error) error {
	return listPages(ctx, c, "listRoleAssignments", "/roleManagement/directory/roleAssignments?"+roleQuery(), page)
}

// ListRoleEligibilities calls page with each page of the tenant's eligible (PIM) role
// assignments (GET /roleManagement/directory/roleEligibilityScheduleInstances).
func (c *Client) ListRoleEligibilities(ctx context.Context, page func([]RoleAssignment) error) error {
	return listPages(ctx, c, "listRoleEligibilities", "/roleManagement/directory/roleEligibilityScheduleInstances?"+roleQuery(), page)
}
