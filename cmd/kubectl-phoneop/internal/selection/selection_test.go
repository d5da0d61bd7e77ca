package selection

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    []User
		wantErr bool
	}{
		"UPNs, namespaces, comments, duplicates, sorted": {
			in:   "# users\nlee@contoso.com team-b\n\nKim@contoso.com, team-a\nkim@contoso.com\n",
			want: []User{{UPN: "Kim@contoso.com", Namespace: "team-a"}, {UPN: "lee@contoso.com", Namespace: "team-b"}}},
		"not a UPN":     {in: "kim\n", wantErr: true},
		"three columns": {in: "kim@contoso.com a b\n", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in), "users.txt")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if !tc.wantErr && len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}
