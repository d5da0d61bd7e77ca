package graphemu_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/graphemu"
)

// TestThrottlingResourceUnits: scale 0.001 gives a 3-RU bucket refilling
// 0.35 RU/s; the 4th GET is throttled, and it recovers after Retry-After
// on the emulator's clock.
func TestThrottlingResourceUnits(t *testing.T) {
	en := newEnv(t, graphemu.Options{ThrottleScale: 0.001})
	for i := range 3 {
		resp, _ := en.do(t, "GET", phonePath(kimID), en.token, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d", i, resp.StatusCode)
		}
		if i == 2 && resp.Header.Get("x-ms-throttle-limit-percentage") == "" {
			t.Fatal("no x-ms-throttle-limit-percentage above 80 %")
		}
	}
	retry := expect429(t, en, "GET", "", "Tenant_Application/ReadWrite/"+rwApp+"/"+tenantID)
	en.clk.Advance(time.Duration(retry) * time.Second)
	if resp, _ := en.do(t, "GET", phonePath(kimID), en.token, ""); resp.StatusCode != 200 {
		t.Fatalf("after Retry-After: %d", resp.StatusCode)
	}
}

// TestThrottlingWrites: scale 0.002 gives 7 RU and 6 writes per app; the
// 7th write hits the write limit first.
func TestThrottlingWrites(t *testing.T) {
	en := newEnv(t, graphemu.Options{ThrottleScale: 0.002})
	must(t, en.e.SetPhoneMethod(tenantID, kimID, graphemu.PhoneMethod{PhoneType: "office", PhoneNumber: num1}))
	body := `{"phoneNumber":"` + num1 + `"}`
	for i := range 6 {
		if resp, b := en.do(t, "PATCH", officePath, en.token, body); resp.StatusCode != 204 {
			t.Fatalf("PATCH %d: %d %s", i, resp.StatusCode, b)
		}
	}
	retry := expect429(t, en, "PATCH", body, "Tenant_Application/Write/"+rwApp+"/"+tenantID)
	if retry < 20 { // one write per 25 s at this scale
		t.Fatalf("Retry-After %d too short for the write bucket", retry)
	}
	en.clk.Advance(time.Duration(retry) * time.Second)
	if resp, _ := en.do(t, "PATCH", officePath, en.token, body); resp.StatusCode != 204 {
		t.Fatalf("after Retry-After: %d", resp.StatusCode)
	}
}

// expect429 sends one more request and checks the throttling answer.
func expect429(t *testing.T, en *env, method, body, scope string) int {
	t.Helper()
	path := phonePath(kimID)
	if method != "GET" {
		path = officePath
	}
	resp, b := en.do(t, method, path, en.token, body)
	if resp.StatusCode != 429 || errCode(b) != "TooManyRequests" {
		t.Fatalf("want 429 TooManyRequests, got %d %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("x-ms-throttle-scope"); got != scope {
		t.Fatalf("x-ms-throttle-scope %q, want %q", got, scope)
	}
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if !strings.HasSuffix(resp.Header.Get("x-ms-throttle-information"), "LimitExceeded") {
		t.Fatalf("x-ms-throttle-information %q", resp.Header.Get("x-ms-throttle-information"))
	}
	return retry
}

// TestThrottlingDisabled: DisableThrottling never answers 429.
func TestThrottlingDisabled(t *testing.T) {
	en := newEnv(t, graphemu.Options{ThrottleScale: 0.0001, DisableThrottling: true})
	for i := range 10 {
		if resp, _ := en.do(t, "GET", phonePath(kimID), en.token, ""); resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d", i, resp.StatusCode)
		}
	}
}
