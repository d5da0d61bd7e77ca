package graphemu_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// listItems lists a user's methods over Graph and decodes the items.
func (en *env) listItems(t *testing.T, user string) []map[string]any {
	t.Helper()
	resp, body := en.do(t, "GET", phonePath(user), en.token, "")
	if resp.StatusCode != 200 {
		t.Fatalf("list %s: %d %s", user, resp.StatusCode, body)
	}
	var l struct{ Value []map[string]any }
	must(t, json.Unmarshal(body, &l))
	return l.Value
}

// listed is "phoneType=number" of each item, in list order.
func (en *env) listed(t *testing.T, user string) []string {
	t.Helper()
	var out []string
	for _, it := range en.listItems(t, user) {
		out = append(out, it["phoneType"].(string)+"="+it["phoneNumber"].(string))
	}
	return out
}

// TestNumberFormat: a write stores the number reformatted; reads over
// Graph and out of band show the stored form, and the rules still see
// the number it stands for.
func TestNumberFormat(t *testing.T) {
	cases := map[string]struct {
		format     graphemu.NumberFormat
		sent, want string
	}{
		"documented form, sent without the space": {graphemu.NumberFormatDocumented, "+491701234567", "+49 1701234567"},
		"nospace":                           {graphemu.NumberFormatNoSpace, "+49 1701234567", "+491701234567"},
		"nospace keeps an extension":        {graphemu.NumberFormatNoSpace, "+1 4255550100x12", "+14255550100x12"},
		"trunk 0 added (Germany)":           {graphemu.NumberFormatTrunk, "+49 1701234567", "+49 01701234567"},
		"trunk 0 stripped (United Kingdom)": {graphemu.NumberFormatTrunk, "+44 07700900123", "+44 7700900123"},
		"trunk: NANP has no trunk 0":        {graphemu.NumberFormatTrunk, "+1 4255550100", "+1 4255550100"},
		"trunk: Italy keeps its 0":          {graphemu.NumberFormatTrunk, "+39 0612345678", "+39 0612345678"},
		"spaced":                            {graphemu.NumberFormatSpaced, "+491701234567", "+49 170 123-4567"},
		"spaced short number":               {graphemu.NumberFormatSpaced, "+354 5551234", "+354 555-1234"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: graphemu.Faults{NumberFormat: tc.format}})
			typ := "office"
			resp, body := en.do(t, "POST", phonePath(kimID), en.token, create(typ, tc.sent))
			var created graphemu.PhoneMethod
			must(t, json.Unmarshal(body, &created))
			if resp.StatusCode != 201 || created.PhoneNumber != tc.want {
				t.Fatalf("create: %d %s, want number %q", resp.StatusCode, body, tc.want)
			}
			if d := cmp.Diff([]string{typ + "=" + tc.want}, en.listed(t, kimID)); d != "" {
				t.Fatalf("list (-want +got):\n%s", d)
			}
			if got := en.methods(t, kimID)[typ].PhoneNumber; got != tc.want {
				t.Fatalf("out of band %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNumberFormatKeepsRules: uniqueness and "is this a change" use the
// number, not its stored form.
func TestNumberFormatKeepsRules(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: graphemu.Faults{NumberFormat: graphemu.NumberFormatNoSpace}})
	leeHolds(num1)(t, en)
	if resp, body := en.do(t, "POST", phonePath(kimID), en.token, create("mobile", num1)); resp.StatusCode != 409 {
		t.Fatalf("clash with lee's number in another form: %d %s", resp.StatusCode, body)
	}
	must(t, en.e.SetPhoneMethod(tenantID, leeID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num2, SMSSignInState: "ready"}))
	resp, _ := en.do(t, "POST", mobilePath+"/disableSmsSignIn", en.token, "")
	if resp.StatusCode != 204 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	// Writing back what was read is no change: SMS sign-in stays off.
	if resp, _ := en.do(t, "PATCH", mobilePath, en.token, `{"phoneNumber":"+15555550101"}`); resp.StatusCode != 204 {
		t.Fatalf("patch with the read-back form: %d", resp.StatusCode)
	}
	if m := en.methods(t, kimID)["mobile"]; m.PhoneNumber != "+15555550101" || m.SMSSignInState != "notEnabled" {
		t.Fatalf("after writing back the stored form: %+v", m)
	}
}

// TestReadLag: for ReadLag after a write, list and get answer the state
// before that write; writes see the current state; the lag ends on time
// or with an out-of-band edit.
func TestReadLag(t *testing.T) {
	const lag = 10 * time.Second
	en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: graphemu.Faults{ReadLag: lag}})
	set("mobile", num1, "")(t, en)
	get := func() string { // "2:" + number, or "4:" when absent
		resp, body := en.do(t, "GET", mobilePath, en.token, "")
		var m graphemu.PhoneMethod
		_ = json.Unmarshal(body, &m)
		return fmt.Sprintf("%d:%s", resp.StatusCode/100, m.PhoneNumber)
	}
	steps := []struct {
		name    string
		act     func()
		list    []string
		getWant string
	}{
		{"no write yet: fresh", func() {}, []string{"mobile=" + num1}, "2:" + num1},
		{"after a patch: the old number", func() {
			en.do(t, "PATCH", mobilePath, en.token, `{"phoneNumber":"`+num2+`"}`)
		}, []string{"mobile=" + num1}, "2:" + num1},
		{"a second write: the state before it", func() {
			en.clk.Advance(lag / 2)
			en.do(t, "PATCH", mobilePath, en.token, `{"phoneNumber":"`+num3+`"}`)
		}, []string{"mobile=" + num2}, "2:" + num2},
		{"almost settled", func() { en.clk.Advance(lag - time.Nanosecond) }, []string{"mobile=" + num2}, "2:" + num2},
		{"settled", func() { en.clk.Advance(time.Nanosecond) }, []string{"mobile=" + num3}, "2:" + num3},
		{"after a delete: still listed", func() {
			if resp, _ := en.do(t, "DELETE", mobilePath, en.token, ""); resp.StatusCode != 204 {
				t.Fatalf("delete: %d", resp.StatusCode)
			}
		}, []string{"mobile=" + num3}, "2:" + num3},
		{"a write acts on the current state", func() {
			if resp, _ := en.do(t, "POST", phonePath(kimID), en.token, create("mobile", num1)); resp.StatusCode != 201 {
				t.Fatalf("create after delete: %d", resp.StatusCode)
			}
		}, nil, "4:"},
		{"an out-of-band edit ends the lag", func() { set("office", num2, "")(t, en) },
			[]string{"mobile=" + num1, "office=" + num2}, "2:" + num1},
	}
	for _, s := range steps {
		s.act()
		if d := cmp.Diff(s.list, en.listed(t, kimID)); d != "" {
			t.Fatalf("%s: list (-want +got):\n%s", s.name, d)
		}
		if got := get(); got != s.getWant {
			t.Fatalf("%s: get %s, want %s", s.name, got, s.getWant)
		}
	}
}

// TestMaskNumbers: reads show masked numbers for every user or for the
// listed ones; writes' answers and out-of-band reads are unmasked.
func TestMaskNumbers(t *testing.T) {
	const masked1, masked2 = "+1 ********01", "+1 ********02"
	cases := map[string]struct {
		faults       graphemu.Faults
		kim, lee     string // numbers listed
		officeMasked string
	}{
		"off":                {graphemu.Faults{}, num1, num2, num2 + "x12"},
		"all users":          {graphemu.Faults{MaskNumbers: true}, masked1, masked2, "+1 ********02x**"},
		"listed UPN":         {graphemu.Faults{MaskUsers: []string{"KIM@contoso.com"}}, masked1, num2, num2 + "x12"},
		"listed object id":   {graphemu.Faults{MaskUsers: []string{leeID}}, num1, masked2, "+1 ********02x**"},
		"listed, none match": {graphemu.Faults{MaskUsers: []string{maxUPN}}, num1, num2, num2 + "x12"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: tc.faults})
			set("mobile", num1, "")(t, en)
			must(t, en.e.SetPhoneMethod(tenantID, leeID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num2}))
			resp, body := en.do(t, "POST", phonePath(leeID), en.token, create("office", num2+"x12"))
			if resp.StatusCode != 201 || !strings.Contains(string(body), `"phoneNumber":"`+num2+`x12"`) {
				t.Fatalf("create answer: %d %s", resp.StatusCode, body)
			}
			if d := cmp.Diff([]string{"mobile=" + tc.kim}, en.listed(t, kimID)); d != "" {
				t.Errorf("kim (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]string{"mobile=" + tc.lee, "office=" + tc.officeMasked}, en.listed(t, leeID)); d != "" {
				t.Errorf("lee (-want +got):\n%s", d)
			}
			_, body = en.do(t, "GET", mobilePath, en.token, "")
			if !strings.Contains(string(body), `"phoneNumber":"`+tc.kim+`"`) {
				t.Errorf("get kim's mobile: %s", body)
			}
			if got := en.methods(t, kimID)["mobile"].PhoneNumber; got != num1 {
				t.Errorf("out of band: %q", got)
			}
		})
	}
}

// TestNotUniqueUnsaved: at rate 1 every mobile or alternateMobile write
// that would succeed answers 409 phoneNumberNotUnique and saves nothing;
// office writes and failing writes are unaffected.
func TestNotUniqueUnsaved(t *testing.T) {
	cases := []ruleCase{
		{name: "create mobile",
			steps: []step{{"POST", phonePath(kimID), create("mobile", num1), 409, "phoneNumberNotUnique"}},
			want:  map[string]string{}},
		{name: "create alternateMobile", setup: set("mobile", num1, ""),
			steps: []step{{"POST", phonePath(kimID), create("alternateMobile", num2), 409, "phoneNumberNotUnique"}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "patch mobile number", setup: set("mobile", num1, ""),
			steps: []step{{"PATCH", mobilePath, `{"phoneType":"mobile","phoneNumber":"` + num2 + `"}`, 409, "phoneNumberNotUnique"}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "patch with the same number changes nothing", setup: set("mobile", num1, ""),
			steps: []step{{"PATCH", mobilePath, `{"phoneNumber":"` + num1 + `"}`, 204, ""}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
		{name: "office is not checked", steps: []step{{"POST", phonePath(kimID), create("office", num1), 201, ""}},
			want: map[string]string{"office": num1 + "|notSupported"}},
		{name: "rules come first", setup: set("mobile", num1, ""),
			steps: []step{{"POST", phonePath(kimID), create("mobile", num2), 409, "conflict"}},
			want:  map[string]string{"mobile": num1 + "|ready"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: graphemu.Faults{RateNotUniqueUnsaved: 1}})
			runSteps(t, en, tc)
		})
	}
}

// runSteps is runRuleCase on a prepared env.
func runSteps(t *testing.T, en *env, tc ruleCase) {
	t.Helper()
	if tc.setup != nil {
		tc.setup(t, en)
	}
	for i, s := range tc.steps {
		resp, body := en.do(t, s.method, s.path, en.token, s.body)
		if resp.StatusCode != s.status || (s.code != "" && errCode(body) != s.code) {
			t.Fatalf("step %d %s %s: got %d %s, want %d %s", i, s.method, s.path, resp.StatusCode, body, s.status, s.code)
		}
	}
	got := map[string]string{}
	for typ, m := range en.methods(t, kimID) {
		got[typ] = m.PhoneNumber + "|" + m.SMSSignInState
	}
	if d := cmp.Diff(tc.want, got); d != "" {
		t.Fatalf("methods (-want +got):\n%s", d)
	}
}

// TestQuirkRates: with a fixed seed each rated quirk hits its fraction
// of calls (within 3 standard deviations), is counted in stats under its
// fault, and the calls it spares behave normally.
func TestQuirkRates(t *testing.T) {
	cases := map[string]struct {
		faults graphemu.Faults
		method string
		body   string
		// expected outputs
		hitStatus  int
		hitCode    string
		fault      string
		missStatus int
	}{
		"unsaved 409 on mobile creates": {graphemu.Faults{RateNotUniqueUnsaved: 0.25}, "POST", create("mobile", num1),
			409, "phoneNumberNotUnique", "notUniqueUnsaved", 201},
		"UnknownError on creates": {graphemu.Faults{RateUnknownError: 0.25}, "POST", create("mobile", num1),
			404, "UnknownError", "unknownError", 201},
		"UnknownError on lists": {graphemu.Faults{RateUnknownError: 0.25}, "GET", "",
			404, "UnknownError", "unknownError", 200},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, graphemu.Options{Seed: 7, DisableThrottling: true, Faults: tc.faults})
			hits := 0
			for range faultRuns {
				resp, body := en.do(t, tc.method, phonePath(kimID), en.token, tc.body)
				_, saved := en.methods(t, kimID)["mobile"]
				switch {
				case resp.StatusCode == tc.hitStatus && errCode(body) == tc.hitCode && !saved:
					hits++
				case resp.StatusCode != tc.missStatus || saved != (tc.method == "POST"):
					t.Fatalf("unexpected %d %s (saved %v)", resp.StatusCode, body, saved)
				}
				if saved {
					must(t, en.e.DeletePhoneMethod(tenantID, kimID, "mobile"))
				}
			}
			checkRate(t, hits, 0.25)
			if n := faultCount(en.e, tc.fault); n != hits {
				t.Fatalf("stats count %d %q, client saw %d", n, tc.fault, hits)
			}
		})
	}
}

// TestUnknownErrorEnvelope: the message is backend JSON naming the
// backend's URL, as observed; the user is looked up first; batch parts
// and only phone-method routes are affected.
func TestUnknownErrorEnvelope(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: graphemu.Faults{RateUnknownError: 1}})
	set("mobile", num1, "")(t, en)
	resp, body := en.do(t, "PATCH", mobilePath, en.token, `{"phoneType":"mobile","phoneNumber":"`+num2+`"}`)
	var g graphErr
	must(t, json.Unmarshal(body, &g))
	var backend struct{ Message, MessageDetail string }
	if resp.StatusCode != 404 || g.Error.Code != "UnknownError" || json.Unmarshal([]byte(g.Error.Message), &backend) != nil {
		t.Fatalf("envelope: %d %s", resp.StatusCode, body)
	}
	wantURL := "https://mface.windowsazure.com/odata/users('" + kimID + "%40" + tenantID + "')/authentication/phoneMethods('" + methodid.Mobile + "')"
	if !strings.Contains(backend.Message, wantURL) || backend.MessageDetail == "" || g.Error.InnerError.RequestID == "" {
		t.Fatalf("backend message %+v, want it to name %s", backend, wantURL)
	}
	if got := en.methods(t, kimID)["mobile"].PhoneNumber; got != num1 {
		t.Fatalf("the failed patch saved %q", got)
	}
	_, body = en.do(t, "GET", phonePath(kimUPN), en.token, "")
	if !strings.Contains(string(body), "users('kim%40contoso.com')") {
		t.Fatalf("by UPN: %s", body)
	}
	if resp, body := en.do(t, "GET", phonePath("nobody"), en.token, ""); resp.StatusCode != 404 || errCode(body) != "Request_ResourceNotFound" {
		t.Fatalf("unknown user: %d %s", resp.StatusCode, body)
	}
	if resp, _ := en.do(t, "GET", graphBase+kimID, en.token, ""); resp.StatusCode != 200 {
		t.Fatalf("user lookup: %d", resp.StatusCode)
	}
	_, body = en.do(t, "POST", "/v1.0/$batch", en.token, `{"requests":[{"id":"1","method":"GET","url":"/users/`+kimID+`/authentication/phoneMethods"}]}`)
	if !strings.Contains(string(body), `"status":404`) || !strings.Contains(string(body), "UnknownError") {
		t.Fatalf("batch part: %s", body)
	}
}

// TestShuffleLists: lists come in varying orders, always complete; off,
// always Graph's usual order.
func TestShuffleLists(t *testing.T) {
	usual := []string{"mobile=" + num1, "alternateMobile=" + num2, "office=" + num3}
	for _, shuffle := range []bool{false, true} {
		en := newEnv(t, graphemu.Options{Seed: 5, DisableThrottling: true, Faults: graphemu.Faults{ShuffleLists: shuffle}})
		setAll(set("mobile", num1, ""), set("alternateMobile", num2, ""), set("office", num3, ""))(t, en)
		orders := map[string]bool{}
		for range 40 {
			got := en.listed(t, kimID)
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			want := slices.Clone(usual)
			slices.Sort(want)
			if !slices.Equal(sorted, want) {
				t.Fatalf("shuffle %v: list %v is not a permutation of %v", shuffle, got, usual)
			}
			orders[strings.Join(got, ",")] = true
		}
		switch {
		case !shuffle && (len(orders) != 1 || !orders[strings.Join(usual, ",")]):
			t.Fatalf("unshuffled orders: %v", orders)
		case shuffle && len(orders) < 4:
			t.Fatalf("shuffled lists took only %d of 6 orders", len(orders))
		}
	}
}

// TestExtraProperties: list items gain @odata.type, methods beta's
// createdDateTime and lastUsedDateTime; off, the v1.0 shape is kept.
func TestExtraProperties(t *testing.T) {
	for _, extra := range []bool{false, true} {
		en := newEnv(t, graphemu.Options{DisableThrottling: true, Faults: graphemu.Faults{ExtraProperties: extra}})
		created := en.clk.Now().UTC().Format(time.RFC3339)
		resp, body := en.do(t, "POST", phonePath(kimID), en.token, create("mobile", num1))
		var one map[string]any
		must(t, json.Unmarshal(body, &one))
		if resp.StatusCode != 201 {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		_, body = en.do(t, "GET", mobilePath, en.token, "")
		var got map[string]any
		must(t, json.Unmarshal(body, &got))
		item := en.listItems(t, kimID)[0]
		for what, m := range map[string]map[string]any{"create": one, "get": got, "list item": item} {
			v, hasCreated := m["createdDateTime"]
			lastUsed, hasLastUsed := m["lastUsedDateTime"]
			if hasCreated != extra || hasLastUsed != extra || (extra && (v != created || lastUsed != nil)) {
				t.Errorf("extra %v, %s: %v", extra, what, m)
			}
		}
		if _, ok := item["@odata.type"]; ok != extra {
			t.Errorf("extra %v: list item @odata.type present %v", extra, ok)
		}
		if one["@odata.type"] != "#microsoft.graph.phoneAuthenticationMethod" || got["@odata.context"] == nil {
			t.Errorf("entity annotations missing: %v", got)
		}
	}
}

// TestQuirksLeaveClassicFaults: quirks draw from their own generator, so
// turning them on leaves the seeded sequence of classic faults alone.
func TestQuirksLeaveClassicFaults(t *testing.T) {
	run := func(f graphemu.Faults) []bool {
		f.Rate429 = 0.3
		en := newEnv(t, graphemu.Options{Seed: 42, DisableThrottling: true, Faults: f})
		var throttled []bool
		for range 60 {
			resp, _ := en.do(t, "GET", phonePath(kimID), en.token, "")
			throttled = append(throttled, resp.StatusCode == 429)
		}
		return throttled
	}
	plain := run(graphemu.Faults{})
	quirky := run(graphemu.Faults{RateUnknownError: 0.5, ShuffleLists: true, MaskNumbers: true, ReadLag: time.Second})
	if !slices.Equal(plain, quirky) {
		t.Fatalf("429s moved when quirks were on:\n%v\n%v", plain, quirky)
	}
}

// TestAdminQuirks: the faults admin API reads and writes every quirk and
// refuses an unknown number format.
func TestAdminQuirks(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true, EnableAdmin: true})
	const all = `{"numberFormat":"trunk","readLag":"5s","maskNumbers":true,"maskUsers":["kim@contoso.com"],` +
		`"rateNotUniqueUnsaved":0.1,"shuffleLists":true,"extraProperties":true,"rateUnknownError":0.2}`
	en.admin(t, "PUT", "/faults", all, 204)
	want := graphemu.Faults{NumberFormat: graphemu.NumberFormatTrunk, ReadLag: 5 * time.Second, MaskNumbers: true,
		MaskUsers: []string{"kim@contoso.com"}, RateNotUniqueUnsaved: 0.1, ShuffleLists: true, ExtraProperties: true,
		RateUnknownError: 0.2}
	if d := cmp.Diff(want, en.e.CurrentFaults()); d != "" {
		t.Fatalf("faults (-want +got):\n%s", d)
	}
	if got := string(en.admin(t, "GET", "/faults", "", 200)); got != all {
		t.Fatalf("GET faults:\n%s\nwant\n%s", got, all)
	}
	en.admin(t, "PUT", "/faults", `{"numberFormat":"fancy"}`, 400)
	en.admin(t, "PUT", "/faults", `{"readLag":"soon"}`, 400)
	if en.e.CurrentFaults().NumberFormat != graphemu.NumberFormatTrunk {
		t.Fatal("a refused PUT changed the faults")
	}
}

func TestParseNumberFormat(t *testing.T) {
	for in, want := range map[string]graphemu.NumberFormat{"": graphemu.NumberFormatDocumented,
		"nospace": graphemu.NumberFormatNoSpace, "trunk": graphemu.NumberFormatTrunk, "spaced": graphemu.NumberFormatSpaced} {
		if got, err := graphemu.ParseNumberFormat(in); err != nil || got != want {
			t.Errorf("ParseNumberFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := graphemu.ParseNumberFormat("NoSpace"); err == nil {
		t.Error("ParseNumberFormat accepted a wrong case")
	}
}
