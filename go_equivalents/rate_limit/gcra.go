// GCRA, the arithmetic inside a rate limiter, written with the standard library: a teaching
// version, and the arithmetic the Python limiters use. The program uses golang.org/x/time/rate
// (main.go), which keeps a count of tokens and the time it last counted them; the two agree
// on when each caller goes, and the tests run the same contract over both.
//
// Go by Example's version, `for range time.Tick(d)`, leaks its ticker when the loop ends
// early; this one starts a timer only for a caller that must wait, and stops it on the way out.
package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// --8<-- [start:inside]

// Limiter lets rate operations a second through, burst at once after a quiet spell: a token
// bucket kept as one time, when the next operation is due, with no refill timer. Callers
// are served in the order they asked. Make one with NewLimiter; it is safe for concurrent use.
type Limiter struct {
	interval  time.Duration // 1 / rate
	tolerance time.Duration // how far ahead of schedule a burst may go: (burst-1) intervals
	mu        sync.Mutex
	tat       time.Time // the theoretical arrival time: when the next operation is due
}

// --8<-- [end:inside]

// NewLimiter returns a limiter of rate operations a second, burst at once.
func NewLimiter(rate float64, burst int) (*Limiter, error) {
	if !(rate > 0) || math.IsInf(rate, 1) {
		return nil, fmt.Errorf("rate must be > 0 and finite, got %v", rate)
	}
	if burst < 1 {
		return nil, fmt.Errorf("burst must be >= 1, got %d", burst)
	}
	interval := time.Duration(float64(time.Second) / rate)
	return &Limiter{interval: interval, tolerance: time.Duration(burst-1) * interval}, nil
}

// --8<-- [start:wait]

// Wait blocks until the caller's slot, or until ctx is done. A caller that gives up hands its
// slot back if no one has reserved a later one; otherwise that slot goes unused. Either way
// the limit holds.
func (l *Limiter) Wait(ctx context.Context) error {
	now := time.Now()
	l.mu.Lock()
	slot := later(now, l.tat.Add(-l.tolerance))
	l.tat = later(slot, l.tat).Add(l.interval)
	left := l.tat
	l.mu.Unlock()

	wait := slot.Sub(now)
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop() // nothing is left ticking when the caller leaves
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		if l.tat.Equal(left) { // no one reserved after us: give the slot back
			l.tat = l.tat.Add(-l.interval)
		}
		l.mu.Unlock()
		return ctx.Err()
	}
}

// --8<-- [end:wait]

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
