// WaitGroup: wait for a collection of goroutines to finish.
//
// Python: concurrency_patterns.waitgroup — AsyncioWaitGroup, AnyioWaitGroup, ThreadWaitGroup.
// Go 1.25's wg.Go(f) does Add(1), starts f in a goroutine and calls Done when f returns. In
// Python a task group (asyncio.TaskGroup, a trio nursery) usually replaces the WaitGroup: it
// also cancels the rest when one fails and carries the error out, which a WaitGroup cannot.
//
//	go run ./waitgroup
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Demo is the demo workload of workloads.json.
type Demo struct {
	Tasks int `json:"tasks"`
}

// --8<-- [start:go]

func run(w io.Writer, d Demo) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	for i := range d.Tasks {
		wg.Go(func() {
			time.Sleep(time.Duration(d.Tasks-i) * time.Millisecond) // finish in reverse order
			mu.Lock()
			finished++
			mu.Unlock()
		})
	}
	// Wait returns once every Done has happened, and everything the goroutines did before
	// their Done happens before Wait returns: reading finished here needs no lock.
	wg.Wait()
	fmt.Fprintf(w, "waitgroup: %d tasks started with go(); wait() returned after %d finished\n",
		d.Tasks, finished)
}

// --8<-- [end:go]

func main() {
	var d Demo
	workloads.MustDemo("waitgroup", &d)
	run(os.Stdout, d)
}
