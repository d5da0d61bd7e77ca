package budget

import "time"

const (
	// blockLife is how long this process may hand out the tokens of a block it reserved: a
	// stale block is never spent late, and an idle one holds its unspent tokens only briefly.
	blockLife = time.Minute
	// maxBlock bounds a block, and so what a process can hold unspent (lost on a crash).
	maxBlock = 32
	// capPerBlockToken: a block holds one token per this many of the cap, so that a small cap
	// keeps one token per Lease write.
	capPerBlockToken = 1000
)

// blockSize is how many tokens one Lease write reserves for this process, a pure function of
// the pool and its cap. The destructive pool always takes one token per write, whatever its
// cap: its cap bounds harm to the token, and every replica sees each token the moment it is
// taken. The creates pool reserves one per thousand of its cap, between 1 and 32 (32 at the
// default 50,000): onboarding costs one Lease write per 32 phones instead of one per phone,
// and a process holds at most 32 tokens that no phone used.
func blockSize(pool Pool, limit int) int {
	if pool != Creates {
		return 1
	}
	return min(max(limit/capPerBlockToken, 1), maxBlock)
}

// block is tokens this process recorded as spent in the Lease (at slot at) with one write and
// hands out itself, without further API writes, until they are used or the block expires.
type block struct {
	id      uint64 // which reservation: a token refunded after its block was replaced goes to the Lease
	at      int64  // the second the block's tokens are recorded under
	left    int    // tokens not handed out yet (still counted as spent in the Lease)
	expires time.Time
}

// live reports whether the block's tokens may still be handed out at now.
func (b *block) live(now time.Time) bool { return b != nil && now.Before(b.expires) }

// unspent is how many of the block's tokens no write used (live or not: an expired block's
// leftovers are given back to the Lease with this process's next write of the pool).
func (b *block) unspent() int {
	if b == nil {
		return 0
	}
	return b.left
}

// newBlock is the block of n tokens reserved at now under second at, of which the caller takes
// one at once. It expires after blockLife, and never after its slot leaves the rolling hour.
func newBlock(id uint64, at int64, n int, now time.Time) *block {
	expires := now.Add(blockLife)
	if hourEnd := time.Unix(at, 0).Add(Window); hourEnd.Before(expires) {
		expires = hourEnd
	}
	return &block{id: id, at: at, left: n - 1, expires: expires}
}

// seenBy is the pool's window as this process sees it: the Lease's, minus the tokens of its
// own block that no write used (they are this process's to hand out, or to give back). Other
// processes count them as spent, so they never overspend the cap.
func (b *block) seenBy(w window) window {
	if b.unspent() == 0 {
		return w
	}
	return w.refundN(b.at, b.left)
}
