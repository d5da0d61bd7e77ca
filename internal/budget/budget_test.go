package budget

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

const testNamespace = "phoneop-system"

// newLedger returns a ledger over the given API server (a fake client), as one replica of
// the manager holds it.
func newLedger(c client.Client, now *time.Time) *Ledger {
	return &Ledger{Client: c, Reader: c, Namespace: testNamespace, Now: func() time.Time { return *now },
		Jitter: func(time.Duration) time.Duration { return 0 }}
}

var nobody = types.NamespacedName{}

func take(t *testing.T, l *Ledger, tenant string, limit int) (bool, time.Duration) {
	t.Helper()
	tok, wait, err := l.Take(context.Background(), tenant, Destructive, limit, nobody)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return tok.Taken(), wait
}

func remaining(t *testing.T, l *Ledger, tenant string, limit int) int {
	t.Helper()
	n, err := l.Remaining(context.Background(), tenant, Destructive, limit)
	if err != nil {
		t.Fatalf("Remaining: %v", err)
	}
	return n
}

func TestLedgerRollsOverAnHour(t *testing.T) {
	now := time.Unix(1700000000, 0)
	b := newLedger(fake.NewClientBuilder().Build(), &now)
	for i := range 2 {
		if ok, _ := take(t, b, "Tenant-A", 2); !ok {
			t.Fatalf("write %d refused within a budget of 2", i+1)
		}
		now = now.Add(10 * time.Minute)
	}
	ok, wait := take(t, b, "tenant-a", 2) // tenant ids are case-insensitive
	if ok || wait != 40*time.Minute {
		t.Fatalf("third write: ok=%v wait=%s, want refused until the first leaves the hour (40m)", ok, wait)
	}
	if left := remaining(t, b, "tenant-a", 2); left != 0 {
		t.Errorf("remaining = %d, want 0", left)
	}
	if ok, _ := take(t, b, "tenant-b", 2); !ok {
		t.Error("another tenant's budget was spent")
	}
	now = now.Add(41 * time.Minute)
	if ok, _ := take(t, b, "tenant-a", 2); !ok {
		t.Error("a write was refused after the oldest left the rolling hour")
	}
	if ok, wait := take(t, b, "tenant-c", 0); ok || wait <= 0 {
		t.Errorf("a cap of 0 allowed a write (ok=%v wait=%s)", ok, wait)
	}
	// Lowering the cap below what the window already holds: to 0 (a freeze), and to 1.
	if ok, wait := take(t, b, "tenant-a", 0); ok || wait != time.Hour {
		t.Errorf("a cap lowered to 0 after writes: ok=%v wait=%s, want refused for the window", ok, wait)
	}
	now = now.Add(time.Minute)
	take(t, b, "tenant-d", 3)
	now = now.Add(time.Minute)
	take(t, b, "tenant-d", 3)
	now = now.Add(time.Minute)
	take(t, b, "tenant-d", 3)
	if ok, wait := take(t, b, "tenant-d", 1); ok || wait != time.Hour {
		t.Errorf("a cap lowered to 1 below 3 writes in the window: ok=%v wait=%s, want refused until the newest leaves the window (1h)", ok, wait)
	}
}

// TestTheLedgerSurvivesARestart: a new Ledger (a restarted manager, a new leader, another
// shard) over the same API server sees the tokens the old one took.
func TestTheLedgerSurvivesARestart(t *testing.T) {
	now := time.Unix(1700000000, 0)
	api := fake.NewClientBuilder().Build()
	before := newLedger(api, &now)
	for range 3 {
		if ok, _ := take(t, before, "tenant-a", 3); !ok {
			t.Fatal("a write within the budget was refused")
		}
	}
	after := newLedger(api, &now)
	if ok, wait := take(t, after, "tenant-a", 3); ok || wait != time.Hour {
		t.Errorf("after a restart: ok=%v wait=%s, want refused for the hour", ok, wait)
	}
	var lease coordinationv1.Lease
	if err := api.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: LeaseName("TENANT-A")}, &lease); err != nil {
		t.Fatalf("the ledger's Lease: %v", err)
	}
	if got := lease.Annotations["budget.phoneop.dev/destructive"]; got != "1700000000:3" {
		t.Errorf("Lease annotation = %q, want the three tokens of one second", got)
	}
}

// TestConcurrentReplicasNeverOverspend: replicas racing for the same tenant's tokens (each
// with its own copy of the Lease) take exactly the cap between them.
func TestConcurrentReplicasNeverOverspend(t *testing.T) {
	now := time.Unix(1700000000, 0)
	api := fake.NewClientBuilder().Build()
	replicas := []*Ledger{newLedger(api, &now), newLedger(api, &now), newLedger(api, &now)}
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := types.NamespacedName{Namespace: "team", Name: string(rune('a' + i))}
			tok, _, err := replicas[i%len(replicas)].Take(context.Background(), "tenant-a", Destructive, 10, key)
			if err != nil {
				t.Errorf("Take: %v", err)
			}
			if tok.Taken() {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := granted.Load(); n != 10 {
		t.Errorf("granted %d tokens among three replicas, want exactly the cap of 10", n)
	}
}

// TestARefundFreesTheSlotAndWakesOneWaiter: a refunded token is available again, and wakes
// the first waiter only.
func TestARefundFreesTheSlotAndWakesOneWaiter(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := newLedger(fake.NewClientBuilder().Build(), &now)
	woken := make(chan types.NamespacedName, 10)
	l.Wake = func(k types.NamespacedName) { woken <- k }
	ctx := context.Background()
	spender := types.NamespacedName{Namespace: "team", Name: "refused-delete"}
	tok, _, err := l.Take(ctx, "tenant-a", Destructive, 1, spender)
	if err != nil || !tok.Taken() {
		t.Fatalf("first take: %v %v", tok, err)
	}
	first, second := types.NamespacedName{Namespace: "team", Name: "first"}, types.NamespacedName{Namespace: "team", Name: "second"}
	for _, k := range []types.NamespacedName{first, second} {
		if ok, _, _ := l.Check(ctx, "tenant-a", Destructive, 1, k); ok {
			t.Fatalf("%s: a check past the cap said yes", k.Name)
		}
	}
	if err := l.Refund(ctx, tok); err != nil {
		t.Fatalf("Refund: %v", err)
	}
	if got := <-woken; got != first {
		t.Errorf("woke %v, want the head of the line %v", got, first)
	}
	if ok, _, _ := l.Check(ctx, "tenant-a", Destructive, 1, second); ok {
		t.Error("the second waiter may take the one freed slot before the first")
	}
	if tok, _, _ := l.Take(ctx, "tenant-a", Destructive, 1, first); !tok.Taken() {
		t.Error("the first waiter could not take the refunded slot")
	}
	select {
	case k := <-woken:
		t.Errorf("a second waiter (%v) was woken for one freed slot", k)
	default:
	}
}

// TestWaitersComeBackOneSlotApart: waiters in line are told to come back when their own slot
// frees, not all at the first one.
func TestWaitersComeBackOneSlotApart(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := newLedger(fake.NewClientBuilder().Build(), &now)
	ctx := context.Background()
	for range 3 {
		l.Take(ctx, "tenant-a", Destructive, 3, nobody)
		now = now.Add(10 * time.Minute)
	}
	var waits []time.Duration
	for _, name := range []string{"a", "b", "c"} {
		ok, wait, err := l.Check(ctx, "tenant-a", Destructive, 3, types.NamespacedName{Namespace: "team", Name: name})
		if ok || err != nil {
			t.Fatalf("check %s: ok=%v err=%v", name, ok, err)
		}
		waits = append(waits, wait)
	}
	want := []time.Duration{30 * time.Minute, 40 * time.Minute, 50 * time.Minute}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("waiter %d comes back after %s, want %s (its own slot)", i, waits[i], want[i])
		}
	}
}

// TestATokenCostsOneWriteAndNoRead: a replica that holds the Lease's latest version spends one
// API write per token and reads the Lease only once (the first time), so the hot path costs no
// extra read; a check within a few seconds costs nothing.
func TestATokenCostsOneWriteAndNoRead(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var gets, writes atomic.Int32
	l := newLedger(countingAPI(&gets, &writes), &now)
	for range 5 {
		take(t, l, "tenant-a", 10)
		now = now.Add(time.Second)
	}
	if ok, _, _ := l.Check(context.Background(), "tenant-a", Destructive, 10, nobody); !ok {
		t.Error("a check with room left said no")
	}
	if g, w := gets.Load(), writes.Load(); g != 1 || w != 5 {
		t.Errorf("five tokens and a check cost %d reads and %d writes, want 1 read and 5 writes", g, w)
	}
}

// TestAForgottenWaiterHoldsUpNoOne: an object that stops waiting (its spec was reverted, it
// converged or stalled elsewhere) leaves the line, so a newcomer gets the next free slot.
func TestAForgottenWaiterHoldsUpNoOne(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := newLedger(fake.NewClientBuilder().Build(), &now)
	ctx := context.Background()
	gone := types.NamespacedName{Namespace: "team", Name: "reverted"}
	if ok, _, _ := l.Check(ctx, "tenant-a", Destructive, 0, gone); ok {
		t.Fatal("a check under a cap of 0 said yes")
	}
	newcomer := types.NamespacedName{Namespace: "team", Name: "newcomer"}
	if tok, _, _ := l.Take(ctx, "tenant-a", Destructive, 1, newcomer); tok.Taken() {
		t.Fatal("a newcomer jumped the line")
	}
	l.Forget(gone)
	if tok, _, _ := l.Take(ctx, "tenant-a", Destructive, 1, newcomer); !tok.Taken() {
		t.Error("a forgotten waiter still holds the only slot")
	}
}

// countingAPI is a fake API server that counts Lease reads and writes.
func countingAPI(gets, writes *atomic.Int32) client.Client {
	return fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets.Add(1)
			return c.Get(ctx, key, obj, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			writes.Add(1)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			writes.Add(1)
			return c.Update(ctx, obj, opts...)
		},
	}).Build()
}

func takeCreate(t *testing.T, l *Ledger, limit int) Token {
	t.Helper()
	tok, _, err := l.Take(context.Background(), "tenant-a", Creates, limit, nobody)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return tok
}

// leaseCreates is the number of creates tokens the tenant's Lease records as spent.
func leaseCreates(t *testing.T, api client.Client) int {
	t.Helper()
	var lease coordinationv1.Lease
	if err := api.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: LeaseName("tenant-a")}, &lease); err != nil {
		t.Fatalf("the ledger's Lease: %v", err)
	}
	w, err := windowOf(&lease, Creates)
	if err != nil {
		t.Fatal(err)
	}
	return w.used()
}

func TestBlockSize(t *testing.T) {
	for _, tc := range []struct {
		pool  Pool
		limit int
		want  int
	}{
		{Destructive, 0, 1},
		{Destructive, 50, 1},
		{Destructive, 100000, 1}, // a destructive token is always persisted alone
		{Creates, 0, 1},
		{Creates, 50, 1},
		{Creates, 1999, 1},
		{Creates, 2000, 2},
		{Creates, 5000, 5},
		{Creates, 32000, 32},
		{Creates, 50000, 32},
		{Creates, 1000000, 32},
	} {
		if got := blockSize(tc.pool, tc.limit); got != tc.want {
			t.Errorf("blockSize(%s, %d) = %d, want %d", tc.pool, tc.limit, got, tc.want)
		}
	}
}

// TestCreatesCostOneWritePerBlock: N creates under the default cap cost ceil(N/32) Lease
// writes and one read, and the Lease records every token of each block as spent.
func TestCreatesCostOneWritePerBlock(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var gets, writes atomic.Int32
	api := countingAPI(&gets, &writes)
	l := newLedger(api, &now)
	const n, limit = 100, 50000
	for range n {
		if !takeCreate(t, l, limit).Taken() {
			t.Fatal("a create within the cap was refused")
		}
	}
	const k = 32 // blockSize at the default cap
	if g, w := gets.Load(), writes.Load(); g != 1 || int(w) != (n+k-1)/k {
		t.Errorf("%d creates cost %d reads and %d writes, want 1 read and %d writes", n, g, w, (n+k-1)/k)
	}
	if got, want := leaseCreates(t, api), (n+k-1)/k*k; got != want {
		t.Errorf("the Lease records %d creates, want %d (every block's tokens, spent or not)", got, want)
	}
	if left, _ := l.Remaining(context.Background(), "tenant-a", Creates, limit); left != limit-n {
		t.Errorf("this process sees %d creates left, want %d (its unspent block counts as free)", left, limit-n)
	}
}

// TestAnExpiredBlockIsNotSpentAndIsGivenBack: a block's tokens are not handed out after it
// expires; the next write gives them back and reserves a new block.
func TestAnExpiredBlockIsNotSpentAndIsGivenBack(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var gets, writes atomic.Int32
	api := countingAPI(&gets, &writes)
	l := newLedger(api, &now)
	const limit = 5000 // blocks of 5
	takeCreate(t, l, limit)
	takeCreate(t, l, limit)
	now = now.Add(blockLife)
	takeCreate(t, l, limit)
	if w := writes.Load(); w != 2 {
		t.Errorf("three creates across an expired block cost %d writes, want 2", w)
	}
	// 2 spent of the first block (its 3 unspent given back), plus a new block of 5.
	if got := leaseCreates(t, api); got != 2+5 {
		t.Errorf("the Lease records %d creates, want 7", got)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got := leaseCreates(t, api); got != 3 {
		t.Errorf("after Release the Lease records %d creates, want the 3 spent", got)
	}
}

// TestARefundedBlockTokenGoesBackToItsBlockOrTheLease: a refund of a token from a live block
// returns it to the block without a write; from an expired block, to the Lease.
func TestARefundedBlockTokenGoesBackToItsBlockOrTheLease(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var gets, writes atomic.Int32
	api := countingAPI(&gets, &writes)
	l := newLedger(api, &now)
	ctx := context.Background()
	const limit = 2000 // blocks of 2
	first := takeCreate(t, l, limit)
	if err := l.Refund(ctx, first); err != nil {
		t.Fatalf("Refund: %v", err)
	}
	takeCreate(t, l, limit)
	takeCreate(t, l, limit)
	if w := writes.Load(); w != 1 {
		t.Errorf("a refund to a live block and two takes from it cost %d writes, want 1", w)
	}
	if left, _ := l.Remaining(ctx, "tenant-a", Creates, limit); left != limit-2 {
		t.Errorf("remaining = %d, want %d", left, limit-2)
	}
	last := takeCreate(t, l, limit) // a new block of 2
	now = now.Add(blockLife)
	if err := l.Refund(ctx, last); err != nil {
		t.Fatalf("Refund: %v", err)
	}
	// The refund's write gives back the refunded token and the expired block's unspent one.
	if got := leaseCreates(t, api); got != 2 {
		t.Errorf("the Lease records %d creates, want the 2 spent", got)
	}
}

// TestALoweredCapStopsABlock: tokens a block holds are not handed out past a cap lowered
// below what was spent (a freeze to 0 included).
func TestALoweredCapStopsABlock(t *testing.T) {
	now := time.Unix(1700000000, 0)
	l := newLedger(fake.NewClientBuilder().Build(), &now)
	takeCreate(t, l, 32000)
	if takeCreate(t, l, 0).Taken() {
		t.Error("a block handed out a token under a cap of 0")
	}
	if takeCreate(t, l, 1).Taken() {
		t.Error("a block handed out a second token under a cap of 1")
	}
}

// TestConcurrentReplicasNeverOverspendCreates: replicas racing with blocks for the last
// creates of the hour never grant more than the cap between them, and lose at most one block
// each.
func TestConcurrentReplicasNeverOverspendCreates(t *testing.T) {
	now := time.Unix(1700000000, 0)
	const limit, last = 5000, 60 // blocks of 5; the race is for the last 60 of the cap
	spent := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: LeaseName("tenant-a"),
		Annotations: map[string]string{annotationPrefix + string(Creates): fmt.Sprintf("%d:%d", now.Unix()-600, limit-last)}}}
	api := fake.NewClientBuilder().WithObjects(spent).Build()
	replicas := []*Ledger{newLedger(api, &now), newLedger(api, &now), newLedger(api, &now)}
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := types.NamespacedName{Namespace: "team", Name: string(rune('a' + i))}
			for {
				tok, _, err := replicas[i%len(replicas)].Take(context.Background(), "tenant-a", Creates, limit, key)
				if err != nil {
					t.Errorf("Take: %v", err)
					return
				}
				if !tok.Taken() {
					return
				}
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	k := blockSize(Creates, limit)
	if n := int(granted.Load()); n > last || n < last-len(replicas)*k {
		t.Errorf("granted %d of the last %d creates among three replicas, want at most %d and at least %d", n, last, last, last-len(replicas)*k)
	}
	if got := leaseCreates(t, api); got > limit {
		t.Errorf("the Lease records %d creates, more than the cap of %d", got, limit)
	}
}

// TestAStoppingManagerGivesBackItsBlocks: the Ledger, run by the manager, gives back the
// unspent tokens of its blocks when the manager stops.
func TestAStoppingManagerGivesBackItsBlocks(t *testing.T) {
	now := time.Unix(1700000000, 0)
	api := fake.NewClientBuilder().Build()
	l := newLedger(api, &now)
	takeCreate(t, l, 50000)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if err := l.Start(stopped); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := leaseCreates(t, api); got != 1 {
		t.Errorf("after the manager stopped the Lease records %d creates, want the 1 spent", got)
	}
}
