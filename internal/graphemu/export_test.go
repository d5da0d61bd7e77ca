package graphemu

import "time"

// DrawDelay exposes the latency decision for the determinism test, which
// must not time real requests.
func (e *Emulator) DrawDelay(write bool) time.Duration { return e.drawFaults(write).delay }
