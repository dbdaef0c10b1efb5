// Once: run an initialisation exactly once, however many goroutines race for it.
//
// Python: concurrency_patterns.once — AsyncioOnce, AnyioOnce, ThreadOnce. sync.OnceValue
// returns a function that calls f the first time and returns its value every time; concurrent
// callers wait for that first call. The languages part on failure: if f panics, Go counts the
// Once as done and OnceValue re-panics with the same value on every call; the Python Onces let
// the exception reach every caller that waited and then try again on the next call.
//
//	go run ./once
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Demo is the demo workload of workloads.json.
type Demo struct {
	Callers int `json:"callers"`
}

// --8<-- [start:go]

func run(w io.Writer, d Demo) {
	var calls atomic.Int64
	config := sync.OnceValue(func() string {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond) // slow enough that every caller arrives while it runs
		return `"config v1"`
	})
	values := make([]string, d.Callers)
	var wg sync.WaitGroup
	for i := range d.Callers {
		wg.Go(func() { values[i] = config() })
	}
	wg.Wait()
	distinct := map[string]bool{}
	for _, v := range values {
		distinct[v] = true
	}
	got := ""
	for v := range distinct {
		got = v
	}
	fmt.Fprintf(w, "once: %d concurrent callers: init ran %d time(s), every caller got %s\n",
		d.Callers, calls.Load(), got)
}

// --8<-- [end:go]

func main() {
	var d Demo
	workloads.MustDemo("once", &d)
	run(os.Stdout, d)
}
