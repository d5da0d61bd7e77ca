package graph

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		header string
		want   time.Duration
	}{
		"absent":            {"", 0},
		"seconds":           {"12", 12 * time.Second},
		"zero":              {"0", 0},
		"negative":          {"-5", 0},
		"http date":         {now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		"http date in past": {now.Add(-time.Minute).Format(http.TimeFormat), 0},
		"garbage":           {"soon", 0},
	}
	for name, tc := range cases {
		if got := parseRetryAfter(tc.header, now); got != tc.want {
			t.Errorf("%s: parseRetryAfter(%q) = %s, want %s", name, tc.header, got, tc.want)
		}
	}
}

// TestBackoffBounds: jittered, growing, capped.
func TestBackoffBounds(t *testing.T) {
	c := &Client{limits: Limits{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(100*time.Millisecond<<min(attempt-1, 30), time.Second)
		for range 20 {
			d := c.backoff(attempt)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, ceiling/2, ceiling)
			}
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := (Limits{RequestTimeout: time.Minute}).withDefaults().validate(); err == nil {
		t.Error("a 60 s request timeout was accepted; the service gives up at 60 s")
	}
	if err := (Limits{}).withDefaults().validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	if (Limits{MaxRetries: -1}).withDefaults().MaxRetries != 0 {
		t.Error("negative MaxRetries must mean no retries")
	}
}
