package graph

import (
	"context"
	"net/http"
	"strings"
)

// listPages GETs path and follows @odata.nextLink, calling page with each
// page's value until the listing ends, page returns an error, or ctx ends.
// Each page is one GET through the tenant's throttle. A next link outside
// this client's Graph root is refused (see nextPath).
func listPages[T any](ctx context.Context, c *Client, op, path string, page func([]T) error) error {
	for path != "" {
		var p struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, call{op: op, method: http.MethodGet, idempotent: true, out: &p, path: path}); err != nil {
			return err
		}
		if err := page(p.Value); err != nil {
			return err
		}
		next, err := c.nextPath(op, p.NextLink)
		if err != nil {
			return err
		}
		path = next
	}
	return nil
}

// nextPath turns an @odata.nextLink into a path below this client's Graph
// root; "" ends the listing. A link to another host is refused: following it
// would send the tenant's bearer token there.
func (c *Client) nextPath(op, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(link, c.baseURL)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", &Error{Op: op, Class: Terminal, Code: "foreignNextLink"}
	}
	return rest, nil
}
