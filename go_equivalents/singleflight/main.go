// Singleflight: concurrent callers for the same key share one call.
//
// Python: SingleFlight in concurrency_patterns.asyncio, .anyio and .threads.
// Go services use golang.org/x/sync/singleflight, the guard against cache stampedes, and so
// does this program: Do, DoChan and Forget. inside.go shows what it does inside, written with
// the standard library (a teaching version).
//
//	go run ./singleflight
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Demo is the demo workload of workloads.json.
type Demo struct {
	Callers int `json:"callers"`
	Keys    int `json:"keys"`
	CallMS  int `json:"call_ms"`
}

// --8<-- [start:go]

// run sends the demo's callers at the keys at once and prints how many calls were made.
func run(w io.Writer, d Demo) {
	// The zero Group is ready to use; share it among every caller.
	var g singleflight.Group
	var mu sync.Mutex
	calls := map[string]int{}
	var wrong atomic.Int64
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range d.Callers {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i%d.Keys)
			start.Wait() // every caller asks at once
			v, _, _ := g.Do(key, func() (any, error) {
				mu.Lock()
				calls[key]++
				mu.Unlock()
				time.Sleep(time.Duration(d.CallMS) * time.Millisecond)
				return "value of " + key, nil
			})
			if v != "value of "+key {
				wrong.Add(1)
			}
		})
	}
	start.Done()
	wg.Wait()
	total, most := 0, 0
	for _, n := range calls {
		total += n
		most = max(most, n)
	}
	right := "yes"
	if wrong.Load() > 0 {
		right = "no"
	}
	fmt.Fprintf(w, "singleflight: %d callers on %d keys: %d calls made, at most %d per key; "+
		"every caller got its key's value: %s\n", d.Callers, d.Keys, total, most, right)
}

// --8<-- [end:go]

func main() {
	var d Demo
	workloads.MustDemo("singleflight", &d)
	run(os.Stdout, d)
}
