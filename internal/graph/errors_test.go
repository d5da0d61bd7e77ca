package graph_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/graph/methodid"
	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestErrorClasses provokes every class over the wire and checks the error
// the reconciler would see: class, helper, status, code, request id, and
// what the scenario cost.
func TestErrorClasses(t *testing.T) {
	cases := map[string]struct {
		reason string
		// setup prepares the emulator; nil for none
		setup func(t *testing.T, f *fixture)
		// call makes the failing call
		call func(ctx context.Context, t *testing.T, f *fixture) error
		// expected outputs
		class      graph.Class
		is         func(error) bool
		status     int
		code       string
		graphCalls int
	}{
		"InvalidNumberIsTerminal": {
			reason: "a number without a country code is invalid input",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).CreatePhoneMethod(ctx, kimID, graph.PhoneTypeMobile, "206-555-0100")
				return err
			},
			class: graph.Terminal, is: graph.IsTerminal, status: 400, code: "badRequest", graphCalls: 1,
		},
		"MissingArgumentIsTerminalWithoutCall": {
			reason: "an empty user id never reaches Graph",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).ListPhoneMethods(ctx, "")
				return err
			},
			class: graph.Terminal, is: graph.IsTerminal, code: "missingArgument", graphCalls: 0,
		},
		"ChinaRefusesSMSSignInWithoutCall": {
			reason: "21Vianet has no enableSmsSignIn, so the client refuses before calling",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				c := f.client(t, tenantA, func(c *graph.Config) { c.Cloud = graph.CloudChina })
				return c.EnableSMSSignIn(ctx, kimID, methodid.Mobile)
			},
			class: graph.Terminal, is: graph.IsTerminal, code: "notSupportedInCloud", graphCalls: 0,
		},
		"UnknownUserIsNotFound": {
			reason: "a user that does not exist (or is not replicated yet) answers 404",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).GetUser(ctx, "nobody@contoso.example")
				return err
			},
			class: graph.NotFound, is: graph.IsNotFound, status: 404, code: "Request_ResourceNotFound", graphCalls: 1,
		},
		"AbsentMethodIsNotFound": {
			reason: "reading a phone type the user does not have answers 404",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).GetPhoneMethod(ctx, kimID, methodid.Office)
				return err
			},
			class: graph.NotFound, is: graph.IsNotFound, status: 404, code: "itemNotFound", graphCalls: 1,
		},
		"DuplicateTypeIsConflict": {
			reason: "creating a mobile when the user has one conflicts: re-read, then decide",
			setup: func(t *testing.T, f *fixture) {
				if err := f.env.Emulator.SetPhoneMethod(tenantA, kimID, graphemu.PhoneMethod{PhoneType: graphemu.Mobile, PhoneNumber: numberKim}); err != nil {
					t.Fatal(err)
				}
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).CreatePhoneMethod(ctx, kimID, graph.PhoneTypeMobile, numberKim2)
				return err
			},
			class: graph.Conflict, is: graph.IsConflict, status: 409, graphCalls: 1,
		},
		"NumberOfAnotherUserIsConflict": {
			reason: "enabling SMS sign-in on a number another user signs in with answers phoneNumberNotUnique",
			setup: func(t *testing.T, f *fixture) {
				f.env.MustAddUser(t, graphemu.User{TenantID: tenantA, ID: leeID, UserPrincipalName: "lee@contoso.example"})
				for _, u := range []struct{ id, state string }{{leeID, graphemu.SMSReady}, {kimID, graphemu.SMSNotEnabled}} {
					if err := f.env.Emulator.SetPhoneMethod(tenantA, u.id, graphemu.PhoneMethod{PhoneType: graphemu.Mobile, PhoneNumber: numberKim, SMSSignInState: u.state}); err != nil {
						t.Fatal(err)
					}
				}
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				return f.client(t, tenantA).EnableSMSSignIn(ctx, kimID, methodid.Mobile)
			},
			class: graph.Conflict, is: graph.IsConflict, status: 409, code: "phoneNumberNotUnique", graphCalls: 1,
		},
		"ReadOnlyAppIsForbidden": {
			reason: "an app granted only read permissions cannot write",
			setup: func(t *testing.T, f *fixture) {
				f.env.MustAddApp(t, graphemu.App{TenantID: tenantA, ClientID: appID, ClientSecret: secret,
					Permissions: []string{graphemu.PermPhoneMethodReadAll, graphemu.PermUserReadAll}})
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).CreatePhoneMethod(ctx, kimID, graph.PhoneTypeMobile, numberKim)
				return err
			},
			class: graph.Forbidden, is: graph.IsForbidden, status: 403, code: "accessDenied", graphCalls: 1,
		},
		"NoDirectoryReadIsForbidden": {
			reason: "resolving a user needs a directory read permission",
			setup: func(t *testing.T, f *fixture) {
				f.env.MustAddApp(t, graphemu.App{TenantID: tenantA, ClientID: appID, ClientSecret: secret,
					Permissions: []string{graphemu.PermAuthMethodReadWriteAll}})
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA).GetUser(ctx, kimUPN)
				return err
			},
			class: graph.Forbidden, is: graph.IsForbidden, status: 403, code: "Authorization_RequestDenied", graphCalls: 1,
		},
		"WrongSecretIsUnauthorized": {
			reason: "a refused client secret fails at the token endpoint; Graph is never called",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				cred, err := graph.NewCredential(tenantA, f.endpoints(), graph.CredentialSource{ClientID: appID, ClientSecret: "wrong"}, f.env.HTTPClient())
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.client(t, tenantA, func(c *graph.Config) { c.Credential = cred }).GetUser(ctx, kimUPN)
				return err
			},
			class: graph.Unauthorized, is: graph.IsUnauthorized, code: "tokenAcquisitionFailed", graphCalls: 0,
		},
		"MissingFederatedTokenIsUnauthorized": {
			reason: "workload identity without its projected token file cannot authenticate",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				cred, err := graph.NewCredential(tenantA, f.endpoints(), graph.CredentialSource{ClientID: appID, WorkloadIdentity: true,
					TokenFilePath: filepath.Join(t.TempDir(), "absent")}, f.env.HTTPClient())
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.client(t, tenantA, func(c *graph.Config) { c.Credential = cred }).GetUser(ctx, kimUPN)
				return err
			},
			class: graph.Unauthorized, is: graph.IsUnauthorized, code: "tokenAcquisitionFailed", graphCalls: 0,
		},
		"RefusedTokenIsUnauthorizedAfterOneRetry": {
			reason: "Graph's 401 is retried once (a token may expire in flight), then reported",
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA, func(c *graph.Config) { c.Credential = staticToken("a.b.c") }).ListPhoneMethods(ctx, kimID)
				return err
			},
			class: graph.Unauthorized, is: graph.IsUnauthorized, status: 401, code: "InvalidAuthenticationToken", graphCalls: 2,
		},
		"TooManyRequestsIsThrottled": {
			reason: "a 429 with retries disabled comes back with the Retry-After",
			setup: func(t *testing.T, f *fixture) {
				f.env.Emulator.SetFaults(graphemu.Faults{Rate429: 1, RetryAfterSeconds: 7})
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				_, err := f.client(t, tenantA, noRetries).ListPhoneMethods(ctx, kimID)
				if got := graph.RetryAfterOf(err); got.Seconds() != 7 {
					t.Errorf("RetryAfterOf = %s, want 7s", got)
				}
				return err
			},
			class: graph.Throttled, is: graph.IsThrottled, status: 429, code: "TooManyRequests", graphCalls: 1,
		},
		"ServiceUnavailableIsTransient": {
			reason: "a 5xx with retries disabled is transient",
			setup: func(t *testing.T, f *fixture) {
				f.env.Emulator.SetFaults(graphemu.Faults{Rate5xx: 1})
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				return f.client(t, tenantA, noRetries).UpdatePhoneNumber(ctx, kimID, methodid.Mobile, "mobile", numberKim)
			},
			class: graph.Transient, is: graph.IsTransient, graphCalls: 1,
		},
		"DroppedConnectionIsTransient": {
			reason: "a connection closed without an answer is transient; a DELETE is not ambiguous",
			setup: func(t *testing.T, f *fixture) {
				f.env.Emulator.SetFaults(graphemu.Faults{RateDrop: 1})
			},
			call: func(ctx context.Context, t *testing.T, f *fixture) error {
				err := f.client(t, tenantA, noRetries).DeletePhoneMethod(ctx, kimID, methodid.Mobile)
				if graph.IsAmbiguous(err) {
					t.Errorf("a DELETE is idempotent and never ambiguous: %v", err)
				}
				return err
			},
			class: graph.Transient, is: graph.IsTransient, graphCalls: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			err := tc.call(testContext(t), t, f)
			checkError(t, tc.reason, err, tc.class, tc.status, tc.code)
			if !tc.is(err) {
				t.Errorf("Reason: %s\nthe Is helper for %s is false for %v", tc.reason, tc.class, err)
			}
			if got := f.graphCalls(); got != tc.graphCalls {
				t.Errorf("Reason: %s\nGraph calls = %d, want %d", tc.reason, got, tc.graphCalls)
			}
			f.recordCost(t)
		})
	}
}

// checkError asserts the parts of a *graph.Error every class shares.
func checkError(t *testing.T, reason string, err error, class graph.Class, status int, code string) {
	t.Helper()
	t.Logf("error: %v", err)
	var ge *graph.Error
	if !errors.As(err, &ge) {
		t.Fatalf("Reason: %s\nerror %v (%T) is not a *graph.Error", reason, err, err)
	}
	if ge.Class != class || graph.ClassOf(err) != class {
		t.Errorf("Reason: %s\nclass = %s, want %s (%v)", reason, ge.Class, class, err)
	}
	if status != 0 && ge.Status != status {
		t.Errorf("Reason: %s\nstatus = %d, want %d", reason, ge.Status, status)
	}
	if code != "" && ge.Code != code {
		t.Errorf("Reason: %s\ncode = %q, want %q", reason, ge.Code, code)
	}
	if ge.Status != 0 && ge.RequestID == "" {
		t.Errorf("Reason: %s\nGraph answered %d but the error has no request-id", reason, ge.Status)
	}
	// Neither the number nor Graph's message may reach logs.
	for _, secret := range []string{"2065550100", "2065550101", "message", "Request Authorization failed"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Reason: %s\nError() %q contains %q", reason, err.Error(), secret)
		}
	}
	// Callers wrap; the classification must survive it.
	if graph.ClassOf(fmt.Errorf("reconcile: %w", err)) != class {
		t.Errorf("Reason: %s\nclass lost through wrapping", reason)
	}
}

// TestClassOfForeignErrors pins the helpers' behaviour on nil and non-Graph
// errors.
func TestClassOfForeignErrors(t *testing.T) {
	if c := graph.ClassOf(nil); c != graph.None {
		t.Errorf("ClassOf(nil) = %s, want None", c)
	}
	if c := graph.ClassOf(context.DeadlineExceeded); c != graph.Transient {
		t.Errorf("ClassOf(foreign) = %s, want Transient", c)
	}
	if graph.IsAmbiguous(errors.New("x")) || graph.RetryAfterOf(errors.New("x")) != 0 {
		t.Error("foreign errors must not look ambiguous or throttled")
	}
}
