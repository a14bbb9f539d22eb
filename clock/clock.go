// Package clock provides the clocks rdsca's domain runs on.
package clock

import (
	"sync"
	"time"
)

// Real is the system clock.
type Real struct{}

// Now returns the current time in UTC.
func (Real) Now() time.Time { return time.Now().UTC() }

// Offset is a clock that starts at a given instant and then advances with
// real time. It can be set and advanced; it is safe for concurrent use.
type Offset struct {
	mu     sync.RWMutex
	offset time.Duration
	now    func() time.Time
}

// NewOffset returns a clock that reads start now and advances with real time.
func NewOffset(start time.Time) *Offset {
	c := &Offset{now: time.Now}
	c.Set(start)
	return c
}

// Now returns the clock's time in UTC.
func (c *Offset) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.now().Add(c.offset).UTC()
}

// Set makes the clock read t now.
func (c *Offset) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = t.Sub(c.now())
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Offset) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Fixed is a clock that stands still until moved. For tests.
type Fixed struct {
	mu sync.RWMutex
	t  time.Time
}

// NewFixed returns a clock that reads t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t.UTC()} }

// Now returns the clock's time.
func (c *Fixed) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.t
}

// Set makes the clock read t.
func (c *Fixed) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC()
}

// Advance moves the clock by d.
func (c *Fixed) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
