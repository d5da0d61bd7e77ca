package graphemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestStats: calls are counted per (method, route template, status) and
// can be reset.
func TestStats(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	en.do(t, "GET", phonePath(kimID), en.token, "")
	en.do(t, "GET", phonePath(kimUPN), en.token, "")
	en.do(t, "POST", phonePath(kimID), en.token, create("mobile", num1))
	en.do(t, "PATCH", mobilePath, en.token, `{"phoneNumber":"`+num2+`"}`)
	en.do(t, "GET", phonePath("nobody"), en.token, "")
	want := []graphemu.Stat{
		{Method: "GET", Route: graphemu.RoutePhoneList, Status: 200, Count: 2},
		{Method: "GET", Route: graphemu.RoutePhoneList, Status: 404, Count: 1},
		{Method: "POST", Route: graphemu.RoutePhoneList, Status: 201, Count: 1},
		{Method: "PATCH", Route: graphemu.RoutePhoneItem, Status: 204, Count: 1},
	}
	if d := cmp.Diff(want, en.e.Stats()); d != "" {
		t.Fatalf("stats (-want +got):\n%s", d)
	}
	if en.e.Count("GET", graphemu.RoutePhoneList) != 3 {
		t.Fatal("Count")
	}
	en.e.ResetStats()
	if len(en.e.Stats()) != 0 {
		t.Fatal("ResetStats left counts")
	}
}

// admin sends a request to the admin API (no token).
func (en *env) admin(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	resp, b := en.do(t, method, "/_emulator"+path, "", body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return b
}

func TestAdminDisabled(t *testing.T) {
	en := newEnv(t, graphemu.Options{})
	en.admin(t, "GET", "/stats", "", 404)
}

// TestAdminAPI walks every admin route.
func TestAdminAPI(t *testing.T) {
	en := newEnv(t, graphemu.Options{EnableAdmin: true, DisableThrottling: true})
	const t2, app2, u2 = "t2", "app2", "ana@fabrikam.com"
	seed := fmt.Sprintf(`{"tenants":[{"id":%q,"smsSignIn":{"allUsers":true}}],
		"apps":[{"tenantId":%q,"clientId":%q,"clientSecret":"pw","permissions":["UserAuthenticationMethod.ReadWrite.All"]}],
		"users":[{"tenantId":%q,"id":"u-ana","userPrincipalName":%q,"phoneMethods":[{"phoneType":"mobile","phoneNumber":%q}]}]}`,
		t2, t2, app2, t2, u2, num1)
	en.admin(t, "POST", "/seed", seed, 204)
	resp, body := en.form(t, t2, map[string][]string{"grant_type": {"client_credentials"}, "client_id": {app2},
		"client_secret": {"pw"}, "scope": {"https://graph.microsoft.com/.default"}})
	if resp.StatusCode != 200 {
		t.Fatalf("token for seeded app: %d %s", resp.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	must(t, json.Unmarshal(body, &tok))
	resp, body = en.do(t, "GET", phonePath(u2), tok.AccessToken, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"smsSignInState":"ready"`) {
		t.Fatalf("seeded method over Graph: %d %s", resp.StatusCode, body)
	}

	base := "/tenants/" + t2 + "/users/" + u2 + "/phoneMethods"
	en.admin(t, "PUT", base+"/office", `{"phoneNumber":"`+num2+`"}`, 204)
	var ms []graphemu.PhoneMethod
	must(t, json.Unmarshal(en.admin(t, "GET", base, "", 200), &ms))
	if len(ms) != 2 || ms[1].PhoneType != "office" || ms[1].ID != methodid.Office {
		t.Fatalf("admin list: %+v", ms)
	}
	en.admin(t, "DELETE", base+"/office", "", 204)
	en.admin(t, "DELETE", base+"/office", "", 404)
	en.admin(t, "PUT", base+"/pager", `{"phoneNumber":"`+num2+`"}`, 400)
	en.admin(t, "GET", "/tenants/nope/users/x/phoneMethods", "", 404)

	en.admin(t, "PUT", "/tenants/"+t2+"/smsSignInPolicy", `{"allUsers":false}`, 204)
	must(t, json.Unmarshal(en.admin(t, "GET", base, "", 200), &ms))
	if ms[0].SMSSignInState != "notAllowedByPolicy" {
		t.Fatalf("policy change: %+v", ms)
	}

	var stats []graphemu.Stat
	must(t, json.Unmarshal(en.admin(t, "GET", "/stats", "", 200), &stats))
	if len(stats) == 0 {
		t.Fatal("admin stats empty")
	}
	en.admin(t, "DELETE", "/stats", "", 204)
	if string(en.admin(t, "GET", "/stats", "", 200)) != "[]" {
		t.Fatal("stats not reset")
	}

	en.admin(t, "PUT", "/faults", `{"latency":"1ms","rate429":0.5}`, 204)
	if f := en.e.CurrentFaults(); f.Latency.String() != "1ms" || f.Rate429 != 0.5 {
		t.Fatalf("faults: %+v", f)
	}
	if got := string(en.admin(t, "GET", "/faults", "", 200)); got != `{"latency":"1ms","rate429":0.5}` {
		t.Fatalf("GET faults: %s", got)
	}
	en.admin(t, "PUT", "/faults", `{}`, 204)

	var st graphemu.Seed
	must(t, json.Unmarshal(en.admin(t, "GET", "/state", "", 200), &st))
	if len(st.Tenants) != 2 {
		t.Fatalf("state: %+v", st.Tenants)
	}
	en.admin(t, "DELETE", "/tenants/"+t2+"/users/"+u2, "", 204)
	en.admin(t, "POST", "/reset", "", 204)
	if resp, _ := en.do(t, "GET", phonePath(kimID), en.token, ""); resp.StatusCode != 401 {
		t.Fatalf("token after reset: %d", resp.StatusCode)
	}
	en.admin(t, "GET", "/nope", "", 404)
}

// TestBatch: parts are answered, authenticated and counted on their own.
func TestBatch(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num1}))
	body := `{"requests":[
		{"id":"1","method":"GET","url":"/users/` + kimID + `/authentication/phoneMethods"},
		{"id":"2","method":"GET","url":"/users/nobody/authentication/phoneMethods"},
		{"id":"3","method":"POST","url":"/users/` + leeID + `/authentication/phoneMethods","headers":{"Content-Type":"application/json"},
		 "body":{"phoneType":"office","phoneNumber":"` + num2 + `"}}]}`
	resp, b := en.do(t, "POST", "/v1.0/$batch", en.token, body)
	var out struct {
		Responses []struct {
			ID     string
			Status int
		}
	}
	must(t, json.Unmarshal(b, &out))
	got := map[string]int{}
	for _, r := range out.Responses {
		got[r.ID] = r.Status
	}
	if resp.StatusCode != 200 || got["1"] != 200 || got["2"] != 404 || got["3"] != 201 {
		t.Fatalf("batch: %d %s", resp.StatusCode, b)
	}
	if en.e.Count("GET", graphemu.RoutePhoneList) != 2 || en.e.Count("POST", graphemu.RouteBatch) != 1 {
		t.Fatalf("batch stats: %+v", en.e.Stats())
	}
	many := `{"requests":[` + strings.TrimSuffix(strings.Repeat(`{"id":"x","method":"GET","url":"/users/a"},`, 21), ",") + `]}`
	if resp, _ := en.do(t, "POST", "/v1.0/$batch", en.token, many); resp.StatusCode != 400 {
		t.Fatalf("21 parts: %d", resp.StatusCode)
	}
}

// TestConcurrentClients: 50 clients at once; run with -race.
func TestConcurrentClients(t *testing.T) {
	en := newEnv(t, graphemu.Options{DisableThrottling: true})
	must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: "mobile", PhoneNumber: num1}))
	var wg sync.WaitGroup
	errs := make(chan string, 50*20)
	for i := range 50 {
		wg.Go(func() {
			for j := range 20 {
				req := concurrentRequest(i, j)
				resp, err := en.send(req[0], req[1], en.token, req[2], en.srv.Client())
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					errs <- resp.Status
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := en.e.Count("", ""); n != 1000 {
		t.Fatalf("counted %d calls, want 1000", n)
	}
}

// concurrentRequest mixes reads and writes on one user.
func concurrentRequest(i, j int) [3]string {
	switch (i + j) % 4 {
	case 0:
		return [3]string{http.MethodPatch, mobilePath, fmt.Sprintf(`{"phoneNumber":"+1 55555%05d"}`, i*20+j)}
	case 1:
		return [3]string{http.MethodPost, mobilePath + "/disableSmsSignIn", ""}
	case 2:
		return [3]string{http.MethodPost, mobilePath + "/enableSmsSignIn", ""}
	}
	return [3]string{http.MethodGet, phonePath(kimID), ""}
}
