// Package statuskey is the per-install key that keys every hash phoneop writes into status
// (status.writeGuard's write keys), so that a hash seen in status cannot be matched offline
// against guessed phone numbers: without the key, a guess cannot be hashed.
//
// The key lives in one Secret in the manager's namespace, created on the first start
// (LoadOrCreate), because status.writeGuard must mean the same thing after a restart or a
// leader hand-over: a key per process would forget every recorded write and repeat it.
package statuskey
