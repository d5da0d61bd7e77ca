package graph

import (
	"testing"
	"time"
)

func TestAuditFilter(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 15, 987654321, time.FixedZone("CET", 3600))
	cases := map[string]struct {
		query AuditQuery
		want  string
	}{
		"since only, in UTC, whole seconds (earlier, never later)": {
			query: AuditQuery{Since: at},
			want:  "activityDateTime ge 2026-12-01T08:30:15Z"},
		"since and the service": {
			query: AuditQuery{Since: at, Service: ServiceAuthenticationMethods},
			want:  "activityDateTime ge 2026-12-01T08:30:15Z and loggedByService eq 'Authentication Methods'"},
		"a quote in the service is doubled, as OData escapes it": {
			query: AuditQuery{Since: at, Service: "O'Brien"},
			want:  "activityDateTime ge 2026-12-01T08:30:15Z and loggedByService eq 'O''Brien'"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := auditFilter(tc.query); got != tc.want {
				t.Errorf("auditFilter:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestNextPath(t *testing.T) {
	c := &Client{baseURL: "https://graph.microsoft.com/v1.0"}
	cases := map[string]struct {
		link, want string
		wantErr    bool
	}{
		"no link ends the listing":        {link: "", want: ""},
		"a link below the root is a path": {link: "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$skiptoken=x", want: "/auditLogs/directoryAudits?$skiptoken=x"},
		"another host is refused":         {link: "https://evil.example/v1.0/auditLogs/directoryAudits", wantErr: true},
		"a look-alike host is refused":    {link: "https://graph.microsoft.com.evil.example/v1.0/x", wantErr: true},
		"the root itself is refused":      {link: "https://graph.microsoft.com/v1.0", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.nextPath("listDirectoryAudits", tc.link)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("nextPath(%q) = %q, %v; want %q, error %v", tc.link, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
