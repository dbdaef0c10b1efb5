// RWMutex: many readers or one writer.
//
// Python: concurrency_patterns.rwmutex — AsyncioRWMutex, AnyioRWMutex, ThreadRWMutex, which
// copy sync.RWMutex's policy: once a writer waits in Lock, new RLock calls wait behind it (so a
// stream of readers cannot starve a writer), and readers that queued get in before the next
// writer. Writers keep two fields equal; a reader that saw them differ would have seen a
// half-done write — a torn read. The lock makes that impossible.
//
//	go run ./rwmutex
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// state is written in two steps; readers must never see one step without the other.
type state struct {
	mu   sync.RWMutex
	a, b int
}

// Exercise runs readers and writers for rounds each and returns the final value and how many
// reads saw a half-done write.
func Exercise(readers, writers, rounds int) (final int, torn int64) {
	var s state
	var tornReads atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for range rounds {
				s.mu.RLock()
				a := s.a
				runtime.Gosched()
				if a != s.b {
					tornReads.Add(1)
				}
				s.mu.RUnlock()
			}
		})
	}
	for range writers {
		wg.Go(func() {
			for range rounds {
				s.mu.Lock()
				s.a++
				runtime.Gosched() // a reader here would see a != b
				s.b++
				s.mu.Unlock()
			}
		})
	}
	wg.Wait()
	return s.a, tornReads.Load()
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Readers int `json:"readers"`
	Writers int `json:"writers"`
	Rounds  int `json:"rounds"`
}

func run(w io.Writer, d Demo) {
	final, torn := Exercise(d.Readers, d.Writers, d.Rounds)
	fmt.Fprintf(w, "rwmutex: %d readers, %d writers, %d rounds: final value %d, torn reads %d\n",
		d.Readers, d.Writers, d.Rounds, final, torn)
}

func main() {
	var d Demo
	workloads.MustDemo("rwmutex", &d)
	run(os.Stdout, d)
}
