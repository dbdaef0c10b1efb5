// Rate limit: at most Rate operations a second, Burst at once.
//
// Python: concurrency_patterns.rate_limit — AsyncioRateLimiter, AnyioRateLimiter,
// ThreadRateLimiter, with the same arithmetic (GCRA). Go's own answer is golang.org/x/time/rate;
// there is no module proxy here, so this is the idea written with the standard library only.
// Go by Example's version, `for range time.Tick(d)`, leaks its ticker when the loop ends
// early; this one starts a timer only for a caller that must wait, and stops it on the way out.
//
//	go run ./rate_limit
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// Limiter lets at most rate operations a second through, burst at once after a quiet spell:
// a token bucket kept as GCRA keeps it, as one time — when the next operation is due — with
// no refill timer. Each caller reserves its slot when it asks and sleeps until then, so
// callers are served in the order they asked and no two take the same slot. Make one with
// NewLimiter; it is safe for concurrent use.
type Limiter struct {
	interval  time.Duration // 1 / rate
	tolerance time.Duration // how far ahead of schedule a burst may go: (burst-1) intervals

	mu  sync.Mutex
	tat time.Time // the theoretical arrival time: when the next operation is due
}

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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// --8<-- [end:go]

// ErrBadDemo is returned for a demo workload the limiter refuses.
var ErrBadDemo = errors.New("bad demo workload")

// Demo is the demo workload of workloads.json.
type Demo struct {
	Calls int     `json:"calls"`
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// run lets the demo's calls through a limiter all at once and prints when each got in, as the
// limiter's interval it fell in: the line the Python demo prints.
func run(w io.Writer, d Demo) error {
	limiter, err := NewLimiter(d.Rate, d.Burst)
	if err != nil {
		return errors.Join(ErrBadDemo, err)
	}
	start := time.Now()
	admitted := make([]float64, d.Calls)
	var wg sync.WaitGroup
	for i := range d.Calls {
		wg.Go(func() {
			_ = limiter.Wait(context.Background())
			admitted[i] = time.Since(start).Seconds()
		})
	}
	wg.Wait()
	intervalMS := 1000 / d.Rate
	slots := make([]string, d.Calls)
	slices.Sort(admitted)
	for i, t := range admitted {
		// The interval each admission falls in: never early, but possibly reported late.
		slots[i] = fmt.Sprint(math.Floor(t*1000/intervalMS+0.1) * intervalMS)
	}
	fmt.Fprintf(w, "rate_limit: %d calls at %g/s, burst %d: admitted at %s ms\n",
		d.Calls, d.Rate, d.Burst, strings.Join(slots, " "))
	return nil
}

func main() {
	var d Demo
	workloads.MustDemo("rate_limit", &d)
	if err := run(os.Stdout, d); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
