// Mutex: one goroutine at a time in a critical section.
//
// Python: concurrency_patterns.mutex — AsyncioMutex, AnyioMutex, ThreadMutex. The classic
// example: many goroutines add one to a shared counter under a mutex. runtime.Gosched()
// inside the critical section hands the processor to another goroutine between the read and
// the write, as the Python demo's `await` does — without the lock, updates would be lost.
//
//	go run ./mutex
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// Count has tasks goroutines each add 1 to a shared counter increments times, under a
// sync.Mutex, and returns the counter. The zero Mutex is unlocked: no constructor needed.
func Count(tasks, increments int) int {
	var mu sync.Mutex
	counter := 0
	var wg sync.WaitGroup
	for range tasks {
		wg.Go(func() {
			for range increments {
				mu.Lock()
				value := counter
				runtime.Gosched() // let another goroutine run here: the lock keeps it out
				counter = value + 1
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return counter
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Tasks      int `json:"tasks"`
	Increments int `json:"increments"`
}

func run(w io.Writer, d Demo) {
	fmt.Fprintf(w, "mutex: %d tasks x %d increments: counter = %d\n", d.Tasks, d.Increments, Count(d.Tasks, d.Increments))
}

func main() {
	var d Demo
	workloads.MustDemo("mutex", &d)
	run(os.Stdout, d)
}
