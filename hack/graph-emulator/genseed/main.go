// Command genseed prints a seed for the Graph emulator with N users who already have phones
// and other authentication methods, for measuring kubectl-phoneop export and report
// (docs/adoption.md, "What export and report cost"):
//
//	go run ./hack/graph-emulator/genseed -n 10000 > /tmp/seed-10000.json
//
// Every user has a password and a mobile; 30 % an alternate mobile, 10 % an office phone;
// 40 % the Authenticator app and 10 % a passkey, so about half have phones only. The numbers
// are fictional and unique (+1 206 5xx xxxx).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/phoneop/phoneop/internal/graphemu"
)

func main() {
	n := flag.Int("n", 1000, "number of users")
	tenant := flag.String("tenant", "11111111-1111-1111-1111-111111111111", "tenant id")
	client := flag.String("client-id", "22222222-2222-2222-2222-222222222222", "app (client) id")
	secret := flag.String("client-secret", "emulator-secret", "the app's client secret")
	domain := flag.String("domain", "contoso.com", "UPN domain")
	flag.Parse()
	s := graphemu.Seed{
		Tenants: []graphemu.Tenant{{ID: *tenant, SMSSignIn: graphemu.SMSPolicy{AllUsers: true}}},
		Apps: []graphemu.SeedApp{{TenantID: *tenant, ClientID: *client, ClientSecret: *secret,
			Permissions: []string{graphemu.PermAuthMethodReadAll, graphemu.PermUserReadAll, graphemu.PermGroupMemberReadAll}}},
	}
	for i := range *n {
		u := graphemu.SeedUser{User: graphemu.User{TenantID: *tenant, ID: fmt.Sprintf("c0000000-0000-4000-8000-%012d", i),
			UserPrincipalName: fmt.Sprintf("user%05d@%s", i, *domain)}}
		u.PhoneMethods = []graphemu.PhoneMethod{{PhoneType: "mobile", PhoneNumber: fmt.Sprintf("+1 2065%06d", i)}}
		if i%10 < 3 {
			u.PhoneMethods = append(u.PhoneMethods, graphemu.PhoneMethod{PhoneType: "alternateMobile", PhoneNumber: fmt.Sprintf("+1 4255%06d", i)})
		}
		if i%10 == 9 {
			u.PhoneMethods = append(u.PhoneMethods, graphemu.PhoneMethod{PhoneType: "office", PhoneNumber: fmt.Sprintf("+1 3605%06dx%d", i, i%100)})
		}
		u.AuthenticationMethods = []graphemu.AuthenticationMethod{{Type: graphemu.MethodPassword}}
		if i%10 < 4 {
			u.AuthenticationMethods = append(u.AuthenticationMethods, graphemu.AuthenticationMethod{Type: graphemu.MethodMicrosoftAuthenticator, DisplayName: "phone"})
		}
		if i%10 == 4 {
			u.AuthenticationMethods = append(u.AuthenticationMethods, graphemu.AuthenticationMethod{Type: graphemu.MethodFido2, DisplayName: "security key"})
		}
		s.Users = append(s.Users, u)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
