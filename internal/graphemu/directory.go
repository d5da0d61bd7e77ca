package graphemu

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The directory listings a bulk reader needs: GET /users (paged, with a
// $filter on userPrincipalName) and a group's members, direct or
// transitive, optionally cast to users. Graph's rules as documented
// ("Advanced query capabilities on Microsoft Entra ID objects", user and
// group list pages):
//   - pages of 100 by default, $top between 1 and 999, the next page in
//     @odata.nextLink (an absolute URL the client follows as is);
//   - endsWith is an advanced query: it needs the ConsistencyLevel: eventual
//     header and $count=true, else 400 Request_UnsupportedQuery;
//   - $count=true needs ConsistencyLevel: eventual and adds @odata.count;
//   - members are directoryObjects (@odata.type tells users from groups);
//     without a user-read permission user members come with their id only
//     ("limited information returned for inaccessible member objects").

const (
	defaultPageSize = 100
	maxPageSize     = 999
)

// userReadPermissions allow reading users; groupMemberReadPermissions allow
// reading a group's members.
var (
	userReadPermissions        = []string{PermUserReadAll, "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	groupMemberReadPermissions = []string{PermGroupMemberReadAll, "Group.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)

// PermGroupMemberReadAll lets an app read group memberships.
const PermGroupMemberReadAll = "GroupMember.Read.All"

func isGroupRoute(t string) bool {
	switch t {
	case RouteGroupMembers, RouteGroupMemberUsers, RouteGroupTransitive, RouteGroupTransitiveUsers:
		return true
	}
	return false
}

// matchGroup maps /groups/{id}/members[/microsoft.graph.user] and the
// transitive variant.
func matchGroup(segs []string) graphRoute {
	eq := strings.EqualFold
	n := len(segs)
	if n < 3 || segs[1] == "" {
		return graphRoute{template: RouteUnknown, bad: segs[min(1, n-1)]}
	}
	get := []string{http.MethodGet}
	var direct, users string
	switch {
	case eq(segs[2], "members"):
		direct, users = RouteGroupMembers, RouteGroupMemberUsers
	case eq(segs[2], "transitiveMembers"):
		direct, users = RouteGroupTransitive, RouteGroupTransitiveUsers
	default:
		return graphRoute{template: RouteUnknown, bad: segs[2]}
	}
	switch {
	case n == 3:
		return graphRoute{template: direct, allowed: get, groupKey: segs[1]}
	case n == 4 && eq(segs[3], "microsoft.graph.user"):
		return graphRoute{template: users, allowed: get, groupKey: segs[1]}
	}
	return graphRoute{template: RouteUnknown, bad: segs[3]}
}

// group is a security or Microsoft 365 group: members are user or group
// keys (object ids, or UPNs for users) as seeded.
type group struct {
	id          string
	displayName string
	members     []string
	// assignableToRole: a role-assignable group (isAssignableToRole), which can hold directory
	// roles.
	assignableToRole bool
}

// Group is a directory group for seeding. Members name users (object id or
// UPN) and other groups (object id); nested groups make transitiveMembers
// differ from members.
type Group struct {
	TenantID    string   `json:"tenantId"`
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName,omitempty"`
	Members     []string `json:"members,omitempty"`
	// IsAssignableToRole makes the group role-assignable: it can hold directory roles
	// (AddRoleAssignment), and its transitive members are then privileged.
	IsAssignableToRole bool `json:"isAssignableToRole,omitempty"`
}

// AddGroup adds a group, or replaces one with the same id.
func (e *Emulator) AddGroup(g Group) error {
	if g.ID == "" {
		return errorf("group needs an id")
	}
	return e.inTenant(g.TenantID, func(t *tenant) error {
		if t.groups == nil {
			t.groups = map[string]*group{}
		}
		t.groups[lower(g.ID)] = &group{id: g.ID, displayName: g.DisplayName, members: slices.Clone(g.Members), assignableToRole: g.IsAssignableToRole}
		return nil
	})
}

// directoryQuery is a parsed listing request.
type directoryQuery struct {
	match    func(*user) bool // nil: every user
	advanced bool             // ConsistencyLevel: eventual was sent
	count    bool             // $count=true
	top      int
	after    string // lower-case id of the last item of the previous page
}

// dirObject is one listed directory object, users and groups alike.
type dirObject struct {
	id   string
	user *user  // nil for a group
	name string // group displayName
}

// listDirectory answers GET /users and the group member routes. The caller
// holds e.mu.
func (e *Emulator) listDirectory(r *http.Request, gr graphRoute, t *tenant, c *tokenClaims, version string) answer {
	q, ge := parseDirectoryQuery(r, gr.template == RouteUsers)
	if ge != nil {
		return failed(ge)
	}
	var objs []dirObject
	entitySet := "users"
	switch gr.template {
	case RouteUsers:
		for _, u := range t.users {
			if e.replicated(u) && (q.match == nil || q.match(u)) {
				objs = append(objs, dirObject{id: u.ID, user: u})
			}
		}
	default:
		g, ok := t.groups[lower(gr.groupKey)]
		if !ok {
			return failed(gerr(http.StatusNotFound, "Request_ResourceNotFound",
				"Resource '"+gr.groupKey+"' does not exist or one of its queried reference-property objects are not present."))
		}
		transitive := gr.template == RouteGroupTransitive || gr.template == RouteGroupTransitiveUsers
		usersOnly := gr.template == RouteGroupMemberUsers || gr.template == RouteGroupTransitiveUsers
		objs = e.members(t, g, transitive, usersOnly)
		if !usersOnly {
			entitySet = "directoryObjects"
		}
	}
	slices.SortFunc(objs, func(a, b dirObject) int { return strings.Compare(lower(a.id), lower(b.id)) })
	total := len(objs)
	if q.after != "" {
		i, _ := slices.BinarySearchFunc(objs, q.after, func(o dirObject, k string) int {
			if lower(o.id) <= k {
				return -1
			}
			return 1
		})
		objs = objs[i:]
	}
	page, rest := objs, []dirObject(nil)
	if len(objs) > q.top {
		page, rest = objs[:q.top], objs[q.top:]
	}
	canReadUsers := hasRole(c, userReadPermissions...)
	withUserType := selects(r, "userType")
	items := make([]map[string]any, 0, len(page))
	for _, o := range page {
		items = append(items, renderDirObject(o, canReadUsers, withUserType))
	}
	body := map[string]any{
		"@odata.context": "https://" + graphDefaultHost + "/" + version + "/$metadata#" + entitySet,
		"value":          items,
	}
	if q.count {
		body["@odata.count"] = total
	}
	if len(rest) > 0 {
		body["@odata.nextLink"] = nextLink(r, page[len(page)-1].id)
	}
	return answer{status: http.StatusOK, body: body}
}

// replicated: a user added within ReplicationDelay is not listed yet.
func (e *Emulator) replicated(u *user) bool {
	d := e.opts.ReplicationDelay
	return d <= 0 || e.now().Sub(u.created) >= d
}

// members lists a group's members: direct ones, or every user and group
// reachable through nested groups (each once, cycles tolerated).
func (e *Emulator) members(t *tenant, g *group, transitive, usersOnly bool) []dirObject {
	seen := map[string]bool{lower(g.id): true}
	var out []dirObject
	var walk func(*group)
	walk = func(g *group) {
		for _, key := range g.members {
			if u := t.user(key); u != nil {
				if !seen[lower(u.ID)] && e.replicated(u) {
					seen[lower(u.ID)] = true
					out = append(out, dirObject{id: u.ID, user: u})
				}
				continue
			}
			sub, ok := t.groups[lower(key)]
			if !ok || seen[lower(sub.id)] {
				continue
			}
			seen[lower(sub.id)] = true
			if !usersOnly {
				out = append(out, dirObject{id: sub.id, name: sub.displayName})
			}
			if transitive {
				walk(sub)
			}
		}
	}
	walk(g)
	return out
}

// selects reports whether the request's $select names the property (case-insensitively, as
// Graph reads property names).
func selects(r *http.Request, property string) bool {
	for _, p := range strings.Split(r.URL.Query().Get("$select"), ",") {
		if strings.EqualFold(strings.TrimSpace(p), property) {
			return true
		}
	}
	return false
}

// renderDirObject is one listed object as Graph shows it: a user's userPrincipalName only to a
// caller that may read users (null otherwise), and its userType only when $select asks for it
// (Graph's default user properties do not include it).
func renderDirObject(o dirObject, canReadUsers, withUserType bool) map[string]any {
	if o.user == nil {
		return map[string]any{"@odata.type": "#microsoft.graph.group", "id": o.id, "displayName": o.name}
	}
	m := map[string]any{"@odata.type": "#microsoft.graph.user", "id": o.user.ID, "userPrincipalName": nil}
	if canReadUsers {
		m["userPrincipalName"] = o.user.UserPrincipalName
		if withUserType {
			m["userType"] = userTypeOf(o.user)
		}
	}
	return m
}

// nextLink is the request's own URL with $skiptoken set, on the host the
// request came to (a client follows it verbatim).
func nextLink(r *http.Request, lastID string) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	q := r.URL.Query()
	q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(lower(lastID))))
	return scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + q.Encode()
}

var (
	// filterFunc is endsWith/startsWith(userPrincipalName,'value').
	filterFunc = regexp.MustCompile(`(?i)^\s*(endswith|startswith)\(\s*userPrincipalName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$`)
	// filterEq is userPrincipalName eq 'value' or id eq 'value'.
	filterEq = regexp.MustCompile(`(?i)^\s*(userPrincipalName|id)\s+eq\s+'((?:[^']|'')*)'\s*$`)
)

// parseTop reads the page size $top asks for, defaultPageSize without it; a value outside
// 1–maxPageSize is refused with the error code of the resource's family.
func parseTop(vals url.Values, code string) (int, *graphError) {
	v := vals.Get("$top")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, gerr(http.StatusBadRequest, code, "Invalid page size specified: '"+v+"'. Must be between 1 and 999 inclusive.")
	}
	return n, nil
}

// parseSkipToken reads the directory's $skiptoken, the last id of the previous page
// (base64url), empty without one.
func parseSkipToken(vals url.Values) (string, *graphError) {
	v := vals.Get("$skiptoken")
	if v == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) == 0 {
		return "", gerr(http.StatusBadRequest, "Request_BadRequest", "The skip token is invalid.")
	}
	return string(b), nil
}

// parseDirectoryQuery reads $top, $skiptoken, $count and, on /users,
// $filter; $select is accepted and ignored (the emulator's users have only
// an id and a UPN); other options are refused.
func parseDirectoryQuery(r *http.Request, filterable bool) (directoryQuery, *graphError) {
	q := directoryQuery{top: defaultPageSize, advanced: strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")}
	vals := r.URL.Query()
	for k := range vals {
		switch k {
		case "$select", "$top", "$skiptoken", "$count":
		case "$filter":
			if filterable {
				continue
			}
			fallthrough
		default:
			return q, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Query option '"+k+"' is not supported by this emulator on this resource.")
		}
	}
	top, ge := parseTop(vals, "Request_BadRequest")
	if ge != nil {
		return q, ge
	}
	q.top = top
	if q.after, ge = parseSkipToken(vals); ge != nil {
		return q, ge
	}
	switch strings.ToLower(vals.Get("$count")) {
	case "":
	case "true":
		if !q.advanced {
			return q, gerr(http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
		}
		q.count = true
	case "false":
	default:
		return q, gerr(http.StatusBadRequest, "Request_BadRequest", "Invalid value for $count.")
	}
	if f := vals.Get("$filter"); f != "" {
		match, advanced, ge := parseUserFilter(f)
		if ge != nil {
			return q, ge
		}
		if advanced && !(q.advanced && q.count) {
			return q, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query.")
		}
		q.match = match
	}
	return q, nil
}

// parseUserFilter understands the filters a bulk reader of users sends.
// endsWith is an advanced query; startsWith and eq are not.
func parseUserFilter(f string) (func(*user) bool, bool, *graphError) {
	if m := filterFunc.FindStringSubmatch(f); m != nil {
		v := lower(strings.ReplaceAll(m[2], "''", "'"))
		if strings.EqualFold(m[1], "endswith") {
			return func(u *user) bool { return strings.HasSuffix(lower(u.UserPrincipalName), v) }, true, nil
		}
		return func(u *user) bool { return strings.HasPrefix(lower(u.UserPrincipalName), v) }, false, nil
	}
	if m := filterEq.FindStringSubmatch(f); m != nil {
		v := lower(strings.ReplaceAll(m[2], "''", "'"))
		if strings.EqualFold(m[1], "id") {
			return func(u *user) bool { return lower(u.ID) == v }, false, nil
		}
		return func(u *user) bool { return lower(u.UserPrincipalName) == v }, false, nil
	}
	return nil, false, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
		"Unsupported or invalid query filter clause specified for property 'userPrincipalName' of resource 'User'.")
}

// hasRole reports whether the token carries one of the permissions.
func hasRole(c *tokenClaims, ps ...string) bool {
	for _, p := range ps {
		if slices.ContainsFunc(c.Roles, func(r string) bool { return strings.EqualFold(r, p) }) {
			return true
		}
	}
	return false
}
