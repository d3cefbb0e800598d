package servertest

import (
	"sync"
	"time"
)

// Clock is a settable clock for a test server (server.Config.Now): it
// stands still at the instant it was set to until it is set again, so a
// test crosses a time limit (a reuse grace, a lifetime) by setting the
// clock past it instead of sleeping, however slow the machine.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's instant.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t (forwards or backwards).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
