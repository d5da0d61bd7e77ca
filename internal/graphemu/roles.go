package graphemu

import (
	"net/http"
	"strconv"
	"strings"
)

// Directory roles, as the privileged-user guard reads them (graph-phone-methods.md, "Directory
// roles"): GET /roleManagement/directory/roleAssignments (active),
// .../roleEligibilityScheduleInstances (eligible, PIM) and .../roleDefinitions. Lists are paged
// like the directory's (100 by default, $top up to 999, @odata.nextLink with a $skiptoken);
// $select is accepted and ignored, $expand=principal adds the principal's @odata.type and id;
// other options are refused. Each route needs one of its application permissions, else 403
// Authorization_RequestDenied.

// Route templates of the role listings.
const (
	RouteRoleAssignments   = "/roleManagement/directory/roleAssignments"
	RouteRoleEligibilities = "/roleManagement/directory/roleEligibilityScheduleInstances"
	RouteRoleDefinitions   = "/roleManagement/directory/roleDefinitions"
)

// Role permissions: RoleManagement.Read.Directory is the least privilege that covers both
// assignment listings.
const (
	PermRoleManagementReadDirectory          = "RoleManagement.Read.Directory"
	PermRoleEligibilityScheduleReadDirectory = "RoleEligibilitySchedule.Read.Directory"
)

// rolePermissions are the application permissions Graph documents for each listing.
var rolePermissions = map[string][]string{
	RouteRoleAssignments: {PermRoleManagementReadDirectory, "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory",
		"Directory.Read.All", "Directory.ReadWrite.All"},
	RouteRoleEligibilities: {PermRoleEligibilityScheduleReadDirectory, "RoleEligibilitySchedule.ReadWrite.Directory",
		PermRoleManagementReadDirectory, "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"},
	RouteRoleDefinitions: {PermRoleManagementReadDirectory, "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory",
		"Directory.Read.All", "Directory.ReadWrite.All"},
}

func isRoleRoute(t string) bool {
	_, ok := rolePermissions[t]
	return ok
}

// matchRoles maps /roleManagement/directory/{roleAssignments|roleEligibilityScheduleInstances|roleDefinitions}.
func matchRoles(segs []string) graphRoute {
	eq := strings.EqualFold
	if len(segs) != 3 || !eq(segs[1], "directory") {
		return graphRoute{template: RouteUnknown, bad: segs[min(1, len(segs)-1)]}
	}
	for _, t := range []string{RouteRoleAssignments, RouteRoleEligibilities, RouteRoleDefinitions} {
		if eq(segs[2], t[strings.LastIndex(t, "/")+1:]) {
			return graphRoute{template: t, allowed: []string{http.MethodGet}}
		}
	}
	return graphRoute{template: RouteUnknown, bad: segs[2]}
}

// RoleDefinition is a directory role (unifiedRoleDefinition) for seeding.
type RoleDefinition struct {
	TenantID    string `json:"tenantId"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	IsBuiltIn   bool   `json:"isBuiltIn,omitempty"`
}

// RoleAssignment gives a principal (a user, a role-assignable group or a service principal,
// by object id) a directory role: active, or eligible (PIM) when Eligible is set.
type RoleAssignment struct {
	TenantID         string `json:"tenantId"`
	ID               string `json:"id,omitempty"` // generated when empty
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	// DirectoryScopeID is "/" (tenant-wide) when empty.
	DirectoryScopeID string `json:"directoryScopeId,omitempty"`
	Eligible         bool   `json:"eligible,omitempty"`
}

// AddRoleDefinition adds a role definition, or replaces one with the same id.
func (e *Emulator) AddRoleDefinition(d RoleDefinition) error {
	if d.ID == "" {
		return errorf("role definition needs an id")
	}
	return e.inTenant(d.TenantID, func(t *tenant) error { t.roleDefs[lower(d.ID)] = d; return nil })
}

// AddRoleAssignment adds an active or eligible role assignment. A group principal must be
// role-assignable, as Entra requires.
func (e *Emulator) AddRoleAssignment(a RoleAssignment) error {
	if a.PrincipalID == "" || a.RoleDefinitionID == "" {
		return errorf("role assignment needs a principalId and a roleDefinitionId")
	}
	if a.DirectoryScopeID == "" {
		a.DirectoryScopeID = "/"
	}
	return e.inTenant(a.TenantID, func(t *tenant) error {
		if g, ok := t.groups[lower(a.PrincipalID)]; ok && !g.assignableToRole {
			return errorf("group %q is not role-assignable (isAssignableToRole)", a.PrincipalID)
		}
		if a.ID == "" {
			a.ID = strconv.Itoa(len(t.roles)+1) + "-" + lower(a.PrincipalID) + "-" + lower(a.RoleDefinitionID)
		}
		t.roles = append(t.roles, a)
		return nil
	})
}

// inTenant runs f on the tenant with that id, under e.mu.
func (e *Emulator) inTenant(id string, f func(*tenant) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(id)]
	if !ok {
		return notFoundf("unknown tenant %q", id)
	}
	return f(t)
}

// listRoles answers the role listings. The caller holds e.mu.
func (e *Emulator) listRoles(r *http.Request, gr graphRoute, t *tenant, version string) answer {
	top, after, expand, ge := parseRoleQuery(r)
	if ge != nil {
		return failed(ge)
	}
	type item struct {
		id   string
		body map[string]any
	}
	var items []item
	switch gr.template {
	case RouteRoleDefinitions:
		for _, k := range sortedKeys(t.roleDefs) {
			d := t.roleDefs[k]
			items = append(items, item{d.ID, map[string]any{"id": d.ID, "displayName": d.DisplayName, "isBuiltIn": d.IsBuiltIn, "isEnabled": true}})
		}
	default:
		eligible := gr.template == RouteRoleEligibilities
		for _, a := range t.roles {
			if a.Eligible != eligible {
				continue
			}
			m := map[string]any{"id": a.ID, "principalId": a.PrincipalID, "roleDefinitionId": a.RoleDefinitionID, "directoryScopeId": a.DirectoryScopeID}
			if eligible {
				m["memberType"] = "Direct"
				m["startDateTime"] = nil
				m["endDateTime"] = nil
			}
			if expand {
				m["principal"] = map[string]any{"@odata.type": principalType(t, a.PrincipalID), "id": a.PrincipalID}
			}
			items = append(items, item{a.ID, m})
		}
	}
	start := 0
	if after != "" {
		for i, it := range items {
			if lower(it.id) == after {
				start = i + 1
				break
			}
		}
	}
	items = items[start:]
	page, more := items, false
	if len(items) > top {
		page, more = items[:top], true
	}
	values := make([]map[string]any, 0, len(page))
	for _, it := range page {
		values = append(values, it.body)
	}
	entitySet := gr.template[strings.LastIndex(gr.template, "/")+1:]
	body := map[string]any{
		"@odata.context": "https://" + graphDefaultHost + "/" + version + "/$metadata#roleManagement/directory/" + entitySet,
		"value":          values,
	}
	if more {
		body["@odata.nextLink"] = nextLink(r, page[len(page)-1].id)
	}
	return answer{status: http.StatusOK, body: body}
}

// principalType is the principal's @odata.type: a user or a group of the tenant, else a
// service principal.
func principalType(t *tenant, id string) string {
	if _, ok := t.users[lower(id)]; ok {
		return "#microsoft.graph.user"
	}
	if _, ok := t.groups[lower(id)]; ok {
		return "#microsoft.graph.group"
	}
	return "#microsoft.graph.servicePrincipal"
}

// parseRoleQuery reads $top, $skiptoken and $expand (principal only); $select is accepted and
// ignored.
func parseRoleQuery(r *http.Request) (top int, after string, expand bool, ge *graphError) {
	vals := r.URL.Query()
	for k := range vals {
		switch k {
		case "$select", "$top", "$skiptoken", "$expand":
		default:
			return 0, "", false, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Query option '"+k+"' is not supported by this emulator on this resource.")
		}
	}
	if top, ge = parseTop(vals, "Request_BadRequest"); ge != nil {
		return 0, "", false, ge
	}
	if after, ge = parseSkipToken(vals); ge != nil {
		return 0, "", false, ge
	}
	if v := vals.Get("$expand"); v != "" {
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "principal") {
			return 0, "", false, gerr(http.StatusBadRequest, "Request_BadRequest", "Could not find a property named '"+v+"' to expand.")
		}
		expand = true
	}
	return top, after, expand, nil
}

// userTypeOf is the user's userType, Member unless seeded otherwise.
func userTypeOf(u *user) string {
	if u.UserType == "" {
		return "Member"
	}
	return u.UserType
}
