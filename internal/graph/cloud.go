package graph

import (
	"fmt"
	"net/url"
	"strings"
)

// Cloud names the Microsoft cloud a tenant lives in.
type Cloud string

const (
	// CloudGlobal is the public cloud; the default when no cloud is given.
	CloudGlobal Cloud = "Global"
	// CloudUSGov is US Government L4 (GCC High).
	CloudUSGov Cloud = "USGov"
	// CloudUSGovDoD is US Government L5 (DoD).
	CloudUSGovDoD Cloud = "USGovDoD"
	// CloudChina is Microsoft Azure operated by 21Vianet. SMS sign-in cannot
	// be enabled or disabled there.
	CloudChina Cloud = "China"
	// CloudCustom takes both endpoints from the caller: private clouds and
	// the Graph emulator.
	CloudCustom Cloud = "Custom"
)

// Endpoints are the two hosts a tenant's client talks to.
type Endpoints struct {
	// AuthorityHost is the login authority, with a trailing slash, e.g.
	// "https://login.microsoftonline.com/".
	AuthorityHost string
	// GraphRoot is the Graph host without a version or trailing slash, e.g.
	// "https://graph.microsoft.com".
	GraphRoot string
}

// knownEndpoints is the national-cloud table of graph-phone-methods.md.
var knownEndpoints = map[Cloud]Endpoints{
	CloudGlobal:   {AuthorityHost: "https://login.microsoftonline.com/", GraphRoot: "https://graph.microsoft.com"},
	CloudUSGov:    {AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://graph.microsoft.us"},
	CloudUSGovDoD: {AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://dod-graph.microsoft.us"},
	CloudChina:    {AuthorityHost: "https://login.chinacloudapi.cn/", GraphRoot: "https://microsoftgraph.chinacloudapi.cn"},
}

// EndpointsFor returns the endpoints of cloud. The custom URLs are required
// for CloudCustom and refused for every other cloud, so that a half-edited
// tenant never silently talks to the public cloud. An empty cloud means
// CloudGlobal.
func EndpointsFor(cloud Cloud, customAuthority, customGraph string) (Endpoints, error) {
	if cloud == "" {
		cloud = CloudGlobal
	}
	if cloud == CloudCustom {
		return customEndpoints(customAuthority, customGraph)
	}
	ep, ok := knownEndpoints[cloud]
	if !ok {
		return Endpoints{}, fmt.Errorf("unknown cloud %q: use Global, USGov, USGovDoD, China or Custom", cloud)
	}
	if customAuthority != "" || customGraph != "" {
		return Endpoints{}, fmt.Errorf("custom endpoints are only allowed with cloud %q, not %q", CloudCustom, cloud)
	}
	return ep, nil
}

// customEndpoints validates and normalises caller-supplied endpoints.
// Both must be https: azidentity refuses any other authority, and a bearer
// token must never travel in clear text.
func customEndpoints(authority, graphRoot string) (Endpoints, error) {
	a, err := httpsBase("authority host", authority)
	if err != nil {
		return Endpoints{}, err
	}
	g, err := httpsBase("graph root", graphRoot)
	if err != nil {
		return Endpoints{}, err
	}
	return Endpoints{AuthorityHost: a + "/", GraphRoot: g}, nil
}

// httpsBase checks that raw is an absolute https URL without query or
// fragment and returns it without trailing slashes.
func httpsBase(what, raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("cloud %q needs a %s", CloudCustom, what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL: %w", what, err)
	}
	if u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s %q must be an https URL without query or fragment", what, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// Scope is the OAuth2 scope of an app-only Graph token for these endpoints.
func (e Endpoints) Scope() string { return e.GraphRoot + "/.default" }

// SupportsSMSSignIn reports whether enableSmsSignIn and disableSmsSignIn
// exist in the cloud. 21Vianet does not offer them.
func (c Cloud) SupportsSMSSignIn() bool { return c != CloudChina }

// isKnownAuthority reports whether host is a Microsoft authority that MSAL's
// instance discovery knows; any other authority needs discovery turned off.
func isKnownAuthority(host string) bool {
	for _, ep := range knownEndpoints {
		if ep.AuthorityHost == host {
			return true
		}
	}
	return false
}
