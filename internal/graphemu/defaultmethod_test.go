package graphemu_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestTheDefaultMethodIsSeededSetAndRefusedAsGraphDoes: a seeded default phone cannot be
// deleted while the user has other methods (Graph's 400 and message); once the admin API
// moves the default, the delete goes through.
func TestTheDefaultMethodIsSeededSetAndRefusedAsGraphDoes(t *testing.T) {
	en := newEnv(t, graphemu.Options{EnableAdmin: true})
	seed := graphemu.Seed{Users: []graphemu.SeedUser{{
		User:                  graphemu.User{TenantID: tenantID, ID: kimID, UserPrincipalName: kimUPN, DefaultMethod: "Mobile"},
		PhoneMethods:          []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: num1}},
		AuthenticationMethods: []graphemu.AuthenticationMethod{{Type: "microsoftAuthenticator"}},
	}}}
	body, _ := json.Marshal(seed)
	if resp, b := en.do(t, "POST", "/_emulator/seed", "", string(body)); resp.StatusCode != 204 {
		t.Fatalf("seed: %d %s", resp.StatusCode, b)
	}
	resp, b := en.do(t, "GET", "/_emulator/tenants/"+tenantID+"/users/"+kimID+"/defaultMethod", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"defaultMethod":"mobile"`) {
		t.Fatalf("GET defaultMethod: %d %s, want mobile", resp.StatusCode, b)
	}

	resp, b = en.do(t, "DELETE", mobilePath, en.token, "")
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &env)
	if resp.StatusCode != 400 || env.Error.Code != "badRequest" ||
		env.Error.Message != "Cannot delete default method with other methods configured. Please change default method before deletion." {
		t.Fatalf("deleting the default phone: %d %s, want Graph's 400 badRequest refusal", resp.StatusCode, b)
	}

	if resp, b := en.do(t, "PUT", "/_emulator/tenants/"+tenantID+"/users/"+kimID+"/defaultMethod", "", `{"defaultMethod":"microsoftAuthenticator"}`); resp.StatusCode != 204 {
		t.Fatalf("PUT defaultMethod: %d %s", resp.StatusCode, b)
	}
	if resp, b := en.do(t, "DELETE", mobilePath, en.token, ""); resp.StatusCode != 204 {
		t.Fatalf("deleting the phone after the default moved: %d %s", resp.StatusCode, b)
	}
	if resp, _ := en.do(t, "PUT", "/_emulator/tenants/"+tenantID+"/users/"+kimID+"/defaultMethod", "", `{"defaultMethod":"password"}`); resp.StatusCode != 400 {
		t.Errorf("a password accepted as the default method: %d", resp.StatusCode)
	}
}
