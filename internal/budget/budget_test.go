package budget

import (
	"testing"
	"time"
)

func TestLedgerRollsOverAnHour(t *testing.T) {
	now := time.Unix(1700000000, 0)
	b := &Ledger{Now: func() time.Time { return now }}
	for i := range 2 {
		if ok, _ := b.Take("Tenant-A", 2); !ok {
			t.Fatalf("write %d refused within a budget of 2", i+1)
		}
		now = now.Add(10 * time.Minute)
	}
	ok, wait := b.Take("tenant-a", 2) // tenant ids are case-insensitive
	if ok || wait != 40*time.Minute {
		t.Fatalf("third write: ok=%v wait=%s, want refused until the first leaves the hour (40m)", ok, wait)
	}
	if left := b.Remaining("tenant-a", 2); left != 0 {
		t.Errorf("remaining = %d, want 0", left)
	}
	if ok, _ := b.Take("tenant-b", 2); !ok {
		t.Error("another tenant's budget was spent")
	}
	now = now.Add(41 * time.Minute)
	if ok, _ := b.Take("tenant-a", 2); !ok {
		t.Error("a write was refused after the oldest left the rolling hour")
	}
	if ok, wait := b.Take("tenant-c", 0); ok || wait <= 0 {
		t.Errorf("a cap of 0 allowed a write (ok=%v wait=%s)", ok, wait)
	}
	// Lowering the cap below what the window already holds: to 0 (a freeze), and to 1.
	if ok, wait := b.Take("tenant-a", 0); ok || wait != time.Hour {
		t.Errorf("a cap lowered to 0 after writes: ok=%v wait=%s, want refused for the window", ok, wait)
	}
	now = now.Add(time.Minute)
	b.Take("tenant-d", 3)
	now = now.Add(time.Minute)
	b.Take("tenant-d", 3)
	now = now.Add(time.Minute)
	b.Take("tenant-d", 3)
	if ok, wait := b.Take("tenant-d", 1); ok || wait != time.Hour {
		t.Errorf("a cap lowered to 1 below 3 writes in the window: ok=%v wait=%s, want refused until the newest leaves the window (1h)", ok, wait)
	}
}
