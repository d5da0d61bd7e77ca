package graph_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graph"
)

func TestEndpointsFor(t *testing.T) {
	cases := map[string]struct {
		cloud             graph.Cloud
		authority, graphR string
		want              graph.Endpoints
		wantErr           bool
		wantScope         string
	}{
		"empty cloud is global": {cloud: "",
			want:      graph.Endpoints{AuthorityHost: "https://login.microsoftonline.com/", GraphRoot: "https://graph.microsoft.com"},
			wantScope: "https://graph.microsoft.com/.default"},
		"global": {cloud: graph.CloudGlobal,
			want: graph.Endpoints{AuthorityHost: "https://login.microsoftonline.com/", GraphRoot: "https://graph.microsoft.com"}},
		"US government L4": {cloud: graph.CloudUSGov,
			want:      graph.Endpoints{AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://graph.microsoft.us"},
			wantScope: "https://graph.microsoft.us/.default"},
		"US government L5": {cloud: graph.CloudUSGovDoD,
			want:      graph.Endpoints{AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://dod-graph.microsoft.us"},
			wantScope: "https://dod-graph.microsoft.us/.default"},
		"China": {cloud: graph.CloudChina,
			want:      graph.Endpoints{AuthorityHost: "https://login.chinacloudapi.cn/", GraphRoot: "https://microsoftgraph.chinacloudapi.cn"},
			wantScope: "https://microsoftgraph.chinacloudapi.cn/.default"},
		"custom is normalised": {cloud: graph.CloudCustom, authority: "https://127.0.0.1:8443", graphR: "https://127.0.0.1:8443/",
			want:      graph.Endpoints{AuthorityHost: "https://127.0.0.1:8443/", GraphRoot: "https://127.0.0.1:8443"},
			wantScope: "https://127.0.0.1:8443/.default"},
		"custom needs an authority":     {cloud: graph.CloudCustom, graphR: "https://g.example", wantErr: true},
		"custom needs a graph root":     {cloud: graph.CloudCustom, authority: "https://l.example", wantErr: true},
		"custom refuses http":           {cloud: graph.CloudCustom, authority: "http://l.example", graphR: "https://g.example", wantErr: true},
		"custom refuses a query":        {cloud: graph.CloudCustom, authority: "https://l.example", graphR: "https://g.example?x=1", wantErr: true},
		"custom refuses a relative":     {cloud: graph.CloudCustom, authority: "https://l.example", graphR: "g.example", wantErr: true},
		"named cloud refuses overrides": {cloud: graph.CloudGlobal, authority: "https://l.example", wantErr: true},
		"unknown cloud":                 {cloud: "Mars", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := graph.EndpointsFor(tc.cloud, tc.authority, tc.graphR)
			if (err != nil) != tc.wantErr {
				t.Fatalf("EndpointsFor(%q) error = %v, wantErr %v", tc.cloud, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EndpointsFor(%q) -want +got:\n%s", tc.cloud, diff)
			}
			if tc.wantScope != "" && got.Scope() != tc.wantScope {
				t.Errorf("Scope() = %q, want %q", got.Scope(), tc.wantScope)
			}
		})
	}
}

func TestSupportsSMSSignIn(t *testing.T) {
	for cloud, want := range map[graph.Cloud]bool{
		graph.CloudGlobal: true, graph.CloudUSGov: true, graph.CloudUSGovDoD: true,
		graph.CloudChina: false, graph.CloudCustom: true,
	} {
		if got := cloud.SupportsSMSSignIn(); got != want {
			t.Errorf("%s.SupportsSMSSignIn() = %v, want %v", cloud, got, want)
		}
	}
}
