package graph

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Listing users in bulk: every user of the tenant, those of a UPN domain, or
// a group's members. Pages are read one after another by following
// @odata.nextLink; each page is one GET through the tenant's throttle.

// maxPageSize is Graph's largest $top for directory listings.
const maxPageSize = 999

// UserQuery selects users for ListUsers.
type UserQuery struct {
	// Domain keeps users whose userPrincipalName ends with "@"+Domain. Graph
	// serves endsWith only as an advanced query, so the request carries
	// ConsistencyLevel: eventual and $count=true (and, being eventually
	// consistent, may miss users created seconds ago).
	Domain string
	// PageSize is $top; 0 means Graph's maximum, 999.
	PageSize int
}

// UserLister pages a tenant's users: the user cache's directory fill (usercache.Cache.Fill).
// Application permission User.Read.All, which resolving spec.user needs already, covers it.
type UserLister interface {
	ListUsers(ctx context.Context, q UserQuery, page func([]User) error) error
}

var _ UserLister = (*Client)(nil)

// ListUsers calls page with each page of users (id, userPrincipalName and
// userType) until the listing ends, page returns an error, or ctx ends.
func (c *Client) ListUsers(ctx context.Context, q UserQuery, page func([]User) error) error {
	const op = "listUsers"
	v := url.Values{}
	v.Set("$select", "id,userPrincipalName,userType")
	v.Set("$top", strconv.Itoa(pageSize(q.PageSize)))
	cc := c
	if q.Domain != "" {
		domain := strings.TrimPrefix(q.Domain, "@")
		v.Set("$filter", "endsWith(userPrincipalName,'@"+strings.ReplaceAll(domain, "'", "''")+"')")
		v.Set("$count", "true")
		cc = c.withHeader("ConsistencyLevel", "eventual")
	}
	return listPages(ctx, cc, op, "/users?"+encodeQuery(v), page)
}

// ListGroupUsers calls page with each page of a group's members that are
// users: direct members, or with transitive every user of nested groups too.
// A user the app may not read (no User.Read.All) comes with an empty
// userPrincipalName.
func (c *Client) ListGroupUsers(ctx context.Context, groupID string, transitive bool, page func([]User) error) error {
	const op = "listGroupUsers"
	if err := required(op, groupID); err != nil {
		return err
	}
	rel := "members"
	if transitive {
		rel = "transitiveMembers"
	}
	v := url.Values{}
	v.Set("$select", "id,userPrincipalName")
	v.Set("$top", strconv.Itoa(maxPageSize))
	return listPages(ctx, c, op, "/groups/"+url.PathEscape(groupID)+"/"+rel+"/microsoft.graph.user?"+encodeQuery(v), page)
}

func pageSize(n int) int {
	if n <= 0 || n > maxPageSize {
		return maxPageSize
	}
	return n
}

// encodeQuery is url.Values.Encode with OData's "$" left readable.
func encodeQuery(v url.Values) string {
	return strings.ReplaceAll(v.Encode(), "%24", "$")
}

// withHeader returns a copy of the client that adds one header to every
// request; the copy shares the credential, the HTTP transport and the
// tenant's throttle.
func (c *Client) withHeader(key, value string) *Client {
	cc := *c
	base := c.http.Transport
	if base == nil {
		base = defaultTransport
	}
	hc := *c.http
	hc.Transport = headerTransport{base: base, key: key, value: value}
	cc.http = &hc
	return &cc
}

type headerTransport struct {
	base       http.RoundTripper
	key, value string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.key, h.value)
	return h.base.RoundTrip(r)
}
