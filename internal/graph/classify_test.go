package graph_test

import (
	"testing"

	"github.com/phoneop/phoneop/internal/graph"
)

// TestClassify walks the error table of graph-phone-methods.md row by row,
// plus the edges the table leaves to us.
func TestClassify(t *testing.T) {
	cases := map[string]struct {
		status int
		code   string
		want   graph.Class
	}{
		// contract rows
		"400 badRequest is bad input":                       {400, "badRequest", graph.Terminal},
		"400 Request_BadRequest is bad input":               {400, "Request_BadRequest", graph.Terminal},
		"400 without code (bad number) is bad input":        {400, "", graph.Terminal},
		"401 InvalidAuthenticationToken is a token problem": {401, "InvalidAuthenticationToken", graph.Unauthorized},
		"403 accessDenied is a missing permission":          {403, "accessDenied", graph.Forbidden},
		"403 Authorization_RequestDenied is a missing role": {403, "Authorization_RequestDenied", graph.Forbidden},
		"404 Request_ResourceNotFound is an absent user":    {404, "Request_ResourceNotFound", graph.NotFound},
		"404 itemNotFound is an absent method":              {404, "itemNotFound", graph.NotFound},
		"409 phoneNumberNotUnique means re-read":            {409, "phoneNumberNotUnique", graph.Conflict},
		"409 Directory_ConcurrencyViolation means re-read":  {409, "Directory_ConcurrencyViolation", graph.Conflict},
		"409 duplicate type means re-read":                  {409, "conflict", graph.Conflict},
		"429 TooManyRequests is throttling":                 {429, "TooManyRequests", graph.Throttled},
		"503 serviceNotAvailable is transient":              {503, "serviceNotAvailable", graph.Transient},
		"504 gatewayTimeout is transient":                   {504, "gatewayTimeout", graph.Transient},
		// edges
		"no answer at all is transient":                         {0, "", graph.Transient},
		"2xx is no error":                                       {204, "", graph.None},
		"429 with any body is throttling":                       {429, "", graph.Throttled},
		"500 is transient":                                      {500, "generalException", graph.Transient},
		"502 is transient":                                      {502, "", graph.Transient},
		"501 can never work":                                    {501, "", graph.Terminal},
		"a documented code wins over an odd status":             {400, "phoneNumberNotUnique", graph.Conflict},
		"a 5xx status wins over a client-error code":            {503, "badRequest", graph.Transient},
		"a throttling code on a 4xx does not make it throttled": {400, "TooManyRequests", graph.Terminal},
		"401 without code is a token problem":                   {401, "", graph.Unauthorized},
		"403 without code is forbidden":                         {403, "", graph.Forbidden},
		"405 is a client bug, terminal":                         {405, "Request_BadRequest", graph.Terminal},
		"408 request timeout is transient":                      {408, "", graph.Transient},
		"412 precondition failed means re-read":                 {412, "", graph.Conflict},
		"unknown 4xx is terminal":                               {422, "somethingNew", graph.Terminal},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := graph.Classify(tc.status, tc.code); got != tc.want {
				t.Errorf("Classify(%d, %q) = %s, want %s", tc.status, tc.code, got, tc.want)
			}
		})
	}
}
