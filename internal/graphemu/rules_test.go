package graphemu_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

const (
	num1 = "+1 5555550101"
	num2 = "+1 5555550102"
	num3 = "+44 7700900123"
)

// step is one Graph request in a rule case.
type step struct {
	method, path, body string
	status             int
	code               string // expected error code, "" for success
}

// ruleCase prepares state out of band, runs steps, then checks the
// resulting phone methods of kim.
type ruleCase struct {
	name  string
	setup func(t *testing.T, en *env)
	steps []step
	// want maps phoneType to "number|smsSignInState"; nil skips the check.
	want map[string]string
}

func set(typ, number, sms string) func(t *testing.T, en *env) {
	return func(t *testing.T, en *env) {
		must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: typ, PhoneNumber: number, SMSSignInState: sms}))
	}
}

// defaultIs sets kim's default sign-in method.
func defaultIs(method string) func(t *testing.T, en *env) {
	return func(t *testing.T, en *env) {
		must(t, en.e.SetDefaultMethod(tenantID, kimID, method))
	}
}

// others gives kim authentication methods other than phones.
func others(kinds ...string) func(t *testing.T, en *env) {
	return func(t *testing.T, en *env) {
		var ms []graphemu.AuthenticationMethod
		for _, k := range kinds {
			ms = append(ms, graphemu.AuthenticationMethod{Type: k})
		}
		must(t, en.e.SetAuthenticationMethods(tenantID, kimID, ms))
	}
}

func setAll(fs ...func(*testing.T, *env)) func(*testing.T, *env) {
	return func(t *testing.T, en *env) {
		for _, f := range fs {
			f(t, en)
		}
	}
}

// leeHolds gives lee a ready SMS sign-in on number n.
func leeHolds(n string) func(*testing.T, *env) {
	return func(t *testing.T, en *env) {
		must(t, en.e.SetPhoneMethod(tenantID, leeID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: n, SMSSignInState: "ready"}))
	}
}

func create(typ, number string) string {
	return `{"phoneType":"` + typ + `","phoneNumber":"` + number + `"}`
}

var (
	mobilePath = phonePath(kimID, "/", methodid.Mobile)
	altPath    = phonePath(kimID, "/", methodid.AlternateMobile)
	officePath = phonePath(kimID, "/", methodid.Office)
)

// TestPhoneMethodRules covers every rule of the contract as a table case
// over real HTTP.
func TestPhoneMethodRules(t *testing.T) {
	cases := []ruleCase{
		{name: "create mobile registers SMS sign-in (policy includes kim)",
			steps: []step{{"POST", phonePath(kimID), create("mobile", num1), 201, ""}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "create by UPN, any case",
			steps: []step{{"POST", phonePath("KIM@Contoso.COM"), create("office", num1), 201, ""}},
			want:  map[string]string{"office": num1 + "|notSupported"}},
		{name: "rule 1: second mobile conflicts", setup: set("mobile", num1, ""),
			steps: []step{{"POST", phonePath(kimID), create("mobile", num2), 409, "conflict"}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "rule 2: alternateMobile needs mobile",
			steps: []step{{"POST", phonePath(kimID), create("alternateMobile", num1), 400, "badRequest"}},
			want:  map[string]string{}},
		{name: "rule 2: alternateMobile with mobile", setup: set("mobile", num1, ""),
			steps: []step{{"POST", phonePath(kimID), create("alternateMobile", num2), 201, ""}},
			want:  map[string]string{"mobile": num1 + "|ready", "alternateMobile": num2 + "|notSupported"}},
		{name: "rule 2: mobile not deletable while alternateMobile exists",
			setup: setAll(set("mobile", num1, ""), set("alternateMobile", num2, "")),
			steps: []step{{"DELETE", mobilePath, "", 400, "badRequest"}, {"DELETE", altPath, "", 204, ""}, {"DELETE", mobilePath, "", 204, ""}},
			want:  map[string]string{}},
		{name: "rule 9: the default phone is not deletable while the user has other methods",
			setup: setAll(set("mobile", num1, ""), set("office", num2, ""), defaultIs("mobile")),
			steps: []step{{"DELETE", mobilePath, "", 400, "badRequest"}, {"DELETE", officePath, "", 204, ""}, {"DELETE", mobilePath, "", 204, ""}},
			want:  map[string]string{}},
		{name: "rule 9: another method counts, the password does not",
			setup: setAll(set("office", num1, ""), defaultIs("office"), others("password", "microsoftAuthenticator")),
			steps: []step{{"DELETE", officePath, "", 400, "badRequest"}},
			want:  map[string]string{"office": num1 + "|notSupported"}},
		{name: "rule 9: with no default set, the strongest other method is the default and phones delete freely",
			setup: setAll(set("mobile", num1, ""), set("office", num2, ""), others("fido2")),
			steps: []step{{"DELETE", mobilePath, "", 204, ""}, {"DELETE", officePath, "", 204, ""}},
			want:  map[string]string{}},
		{name: "rule 9: a default phone that is the last method may go",
			setup: setAll(set("mobile", num1, ""), defaultIs("mobile"), others("password")),
			steps: []step{{"DELETE", mobilePath, "", 204, ""}},
			want:  map[string]string{}},
		{name: "rule 3: type immutable", setup: set("office", num1, ""),
			steps: []step{{"PATCH", officePath, `{"phoneType":"mobile"}`, 400, "badRequest"}},
			want:  map[string]string{"office": num1 + "|notSupported"}},
		{name: "rule 3: same type in patch is fine", setup: set("office", num1, ""),
			steps: []step{{"PATCH", officePath, `{"phoneType":"office","phoneNumber":"` + num2 + `x12"}`, 204, ""}},
			want:  map[string]string{"office": num2 + "x12|notSupported"}},
		{name: "rule 4/5: SMS sign-in only on mobile", setup: set("office", num1, ""),
			steps: []step{{"POST", officePath + "/enableSmsSignIn", "", 400, "badRequest"}, {"POST", officePath + "/disableSmsSignIn", "", 400, "badRequest"}},
			want:  map[string]string{"office": num1 + "|notSupported"}},
		{name: "rule 5: enable after disable", setup: set("mobile", num1, "notEnabled"),
			steps: []step{{"POST", mobilePath + "/enableSmsSignIn", "", 204, ""}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "rule 5: enable from notConfigured", setup: set("mobile", num1, "notConfigured"),
			steps: []step{{"POST", mobilePath + "/enableSmsSignIn", "", 204, ""}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "rule 5: enable refused when number held by another user",
			setup: setAll(leeHolds(num1), set("mobile", num1, "notEnabled")),
			steps: []step{{"POST", mobilePath + "/enableSmsSignIn", "", 409, "phoneNumberNotUnique"}},
			want:  map[string]string{"mobile": num1 + "|phoneNumberNotUnique"}},
		{name: "disable", setup: set("mobile", num1, ""),
			steps: []step{{"POST", mobilePath + "/disableSmsSignIn", "", 204, ""}},
			want:  map[string]string{"mobile": num1 + "|notEnabled"}},
		{name: "rule 6: create answers 409 but saves when number taken", setup: leeHolds(num1),
			steps: []step{{"POST", phonePath(kimID), create("mobile", num1), 409, "phoneNumberNotUnique"}, {"GET", mobilePath, "", 200, ""}},
			want:  map[string]string{"mobile": num1 + "|phoneNumberNotUnique"}},
		{name: "rule 6: patch answers 409 but saves when number taken", setup: setAll(leeHolds(num2), set("mobile", num1, "")),
			steps: []step{{"PATCH", mobilePath, `{"phoneNumber":"` + num2 + `"}`, 409, "phoneNumberNotUnique"}},
			want:  map[string]string{"mobile": num2 + "|phoneNumberNotUnique"}},
		{name: "rule 6: changed number re-registers", setup: set("mobile", num1, "notEnabled"),
			steps: []step{{"PATCH", mobilePath, `{"phoneNumber":"` + num3 + `"}`, 204, ""}},
			want:  map[string]string{"mobile": num3 + "|ready"}},
		{name: "400: invalid number on create",
			steps: []step{{"POST", phonePath(kimID), create("mobile", "+1-555-555-0101"), 400, "badRequest"}}, want: map[string]string{}},
		{name: "400: invalid number on patch", setup: set("mobile", num1, ""),
			steps: []step{{"PATCH", mobilePath, `{"phoneNumber":"5555550101"}`, 400, "badRequest"}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "400: smsSignInState is read-only",
			steps: []step{{"POST", phonePath(kimID), `{"phoneType":"mobile","phoneNumber":"` + num1 + `","smsSignInState":"ready"}`, 400, "badRequest"}}},
		{name: "400: unknown phoneType",
			steps: []step{{"POST", phonePath(kimID), create("pager", num1), 400, "badRequest"}}},
		{name: "400: missing phoneNumber",
			steps: []step{{"POST", phonePath(kimID), `{"phoneType":"mobile"}`, 400, "badRequest"}}},
		{name: "400: unknown property",
			steps: []step{{"POST", phonePath(kimID), `{"phoneType":"mobile","phoneNumber":"` + num1 + `","colour":"red"}`, 400, "BadRequest"}}},
		{name: "400: malformed JSON",
			steps: []step{{"POST", phonePath(kimID), `{"phoneType":`, 400, "BadRequest"}}},
		{name: "400: query options on list",
			steps: []step{{"GET", phonePath(kimID) + "?$filter=phoneType%20eq%20'mobile'", "", 400, "BadRequest"}}},
		{name: "400: unknown segment",
			steps: []step{{"GET", graphBase + kimID + "/authentication/emailMethods", "", 400, "BadRequest"}}},
		{name: "400: /me is delegated only",
			steps: []step{{"GET", "/v1.0/me/authentication/phoneMethods", "", 400, "BadRequest"}}},
		{name: "404: unknown user",
			steps: []step{{"GET", phonePath("nobody@contoso.com"), "", 404, "Request_ResourceNotFound"}}},
		{name: "404: method the user lacks",
			steps: []step{{"GET", mobilePath, "", 404, "itemNotFound"}, {"DELETE", officePath, "", 404, "itemNotFound"}}},
		{name: "404: unknown method id", setup: set("mobile", num1, ""),
			steps: []step{{"GET", phonePath(kimID, "/00000000-0000-0000-0000-000000000000"), "", 404, "itemNotFound"}}},
		{name: "405: wrong verbs",
			steps: []step{{"PUT", phonePath(kimID), "{}", 405, "Request_BadRequest"}, {"GET", mobilePath + "/enableSmsSignIn", "", 405, "Request_BadRequest"},
				{"DELETE", graphBase + kimID, "", 405, "Request_BadRequest"}}},
		{name: "beta serves the same", setup: set("mobile", num1, ""),
			steps: []step{{"GET", "/beta/users/" + kimID + "/authentication/phoneMethods", "", 200, ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runRuleCase(t, tc) })
	}
}

func runRuleCase(t *testing.T, tc ruleCase) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	if tc.setup != nil {
		tc.setup(t, en)
	}
	for i, s := range tc.steps {
		resp, body := en.do(t, s.method, s.path, en.token, s.body)
		if resp.StatusCode != s.status || (s.code != "" && errCode(body) != s.code) {
			t.Fatalf("step %d %s %s: got %d %s, want %d %s", i, s.method, s.path, resp.StatusCode, errCode(body), s.status, s.code)
		}
	}
	if tc.want == nil {
		return
	}
	got := map[string]string{}
	for typ, m := range en.methods(t, kimID) {
		got[typ] = m.PhoneNumber + "|" + m.SMSSignInState
	}
	if len(got) != len(tc.want) {
		t.Fatalf("methods: got %v, want %v", got, tc.want)
	}
	for k, v := range tc.want {
		if got[k] != v {
			t.Fatalf("methods: got %v, want %v", got, tc.want)
		}
	}
}

// TestSMSSignInStateByPolicy checks the states that depend on the tenant
// policy rather than on the method.
func TestSMSSignInStateByPolicy(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.SetPhoneMethod(tenantID, maxID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num1}))
	if s := en.methods(t, maxID)["mobile"].SMSSignInState; s != "notAllowedByPolicy" {
		t.Fatalf("max outside policy: %s", s)
	}
	resp, body := en.do(t, "POST", phonePath(maxID, "/", methodid.Mobile, "/enableSmsSignIn"), en.token, "")
	if resp.StatusCode != 400 {
		t.Fatalf("enable outside policy: %d %s", resp.StatusCode, body)
	}
	must(t, en.e.SetSMSPolicy(tenantID, graphemu.SMSPolicy{AllUsers: true}))
	if s := en.methods(t, maxID)["mobile"].SMSSignInState; s != "notConfigured" {
		t.Fatalf("max now in policy, never registered: %s", s)
	}
	must(t, en.e.SetSMSPolicy(tenantID, graphemu.SMSPolicy{AllUsers: true, ExcludedUsers: []string{maxUPN}}))
	if s := en.methods(t, maxID)["mobile"].SMSSignInState; s != "notAllowedByPolicy" {
		t.Fatalf("max excluded: %s", s)
	}
}

// TestListAndGetShapes checks the JSON shapes of list, get, create and the
// user lookup.
func TestListAndGetShapes(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	resp, body := en.do(t, "POST", phonePath(kimUPN), en.token, create("mobile", num1))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var m graphemu.PhoneMethod
	must(t, json.Unmarshal(body, &m))
	if m != (graphemu.PhoneMethod{ID: methodid.Mobile, PhoneNumber: num1, PhoneType: "mobile", SMSSignInState: "ready"}) {
		t.Fatalf("created: %+v", m)
	}
	resp, body = en.do(t, "GET", phonePath(kimID), en.token, "")
	var list struct{ Value []graphemu.PhoneMethod }
	must(t, json.Unmarshal(body, &list))
	if resp.StatusCode != 200 || len(list.Value) != 1 || list.Value[0] != m {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	resp, body = en.do(t, "GET", graphBase+"KIM@contoso.com?$select=id,userPrincipalName", en.token, "")
	var u struct{ ID, UserPrincipalName string }
	must(t, json.Unmarshal(body, &u))
	if resp.StatusCode != 200 || u.ID != kimID || u.UserPrincipalName != kimUPN {
		t.Fatalf("user: %d %s", resp.StatusCode, body)
	}
}

// TestReplicationDelay: a freshly created user answers 404 until the
// directory has caught up.
func TestReplicationDelay(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, ReplicationDelay: 10 * 1e9})
	resp, _ := en.do(t, "GET", phonePath(kimID), en.token, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("fresh user: %d", resp.StatusCode)
	}
	en.clk.Advance(10 * 1e9)
	resp, _ = en.do(t, "GET", phonePath(kimID), en.token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("replicated user: %d", resp.StatusCode)
	}
}
