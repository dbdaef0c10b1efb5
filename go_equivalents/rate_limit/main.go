// Rate limit: at most Rate operations a second, Burst at once.
//
// Python: RateLimiter in concurrency_patterns.asyncio, .anyio and .threads, which serve
// callers at the slots golang.org/x/time/rate gives them. This program uses x/time/rate, as Go
// services do; gcra.go writes the arithmetic out with the standard library (a teaching version).
//
//	go run ./rate_limit
package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Demo is the demo workload of workloads.json.
type Demo struct {
	Calls int     `json:"calls"`
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// --8<-- [start:go]

// run lets the demo's calls through a limiter all at once and prints when each got in, as the
// limiter's interval it fell in: the line the Python demo prints.
func run(w io.Writer, d Demo) error {
	// d.Rate a second, d.Burst at once; a new limiter is full, so the first burst goes at once.
	if !(d.Rate > 0) || d.Burst < 1 {
		return fmt.Errorf("bad demo workload: rate %v, burst %d", d.Rate, d.Burst)
	}
	limiter := rate.NewLimiter(rate.Limit(d.Rate), d.Burst)
	start := time.Now()
	admitted := make([]float64, d.Calls)
	var wg sync.WaitGroup
	for i := range d.Calls {
		wg.Go(func() {
			// Wait reserves the caller's slot when it asks, and sleeps until then.
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

// --8<-- [end:go]

func main() {
	var d Demo
	workloads.MustDemo("rate_limit", &d)
	if err := run(os.Stdout, d); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
