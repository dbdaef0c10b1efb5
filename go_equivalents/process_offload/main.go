// Process offload — which Go does not need.
//
// Python: concurrency_patterns.process_offload. CPython runs bytecode on one thread at a time
// (the GIL), so CPU-bound Python goes to other processes: run_in_executor with a process pool,
// anyio.to_process. Go's scheduler runs goroutines on every core (GOMAXPROCS, by default the
// number of CPUs), so CPU-bound work simply runs in goroutines, in parallel, in one process,
// with no pickling of arguments and results.
//
//	go run ./process_offload
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// Spin burns CPU: n steps of the same small hash as the Python workloads.spin, so that both
// sides do the same work and return the same number.
func Spin(n int) int {
	acc := 0
	for i := range n {
		acc = (acc*31 + i) % 1_000_003
	}
	return acc
}

// Offload runs fn on every input, one goroutine each, and returns the results in order. The
// Go runtime spreads the goroutines over every core.
func Offload(fn func(int) int, inputs []int) []int {
	results := make([]int, len(inputs))
	var wg sync.WaitGroup
	for i, n := range inputs {
		wg.Go(func() { results[i] = fn(n) })
	}
	wg.Wait()
	return results
}

// Sequential is the baseline: fn on every input, one after another.
func Sequential(fn func(int) int, inputs []int) []int {
	results := make([]int, len(inputs))
	for i, n := range inputs {
		results[i] = fn(n)
	}
	return results
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Jobs int `json:"jobs"`
	Spin int `json:"spin"`
}

func run(w io.Writer, d Demo) {
	sizes := make([]int, d.Jobs)
	for i := range sizes {
		sizes[i] = d.Spin + i
	}
	checksums := Offload(Spin, sizes)
	fmt.Fprintf(w, "process_offload: %d jobs of spin(%d+i): checksums [%s]\n",
		d.Jobs, d.Spin, strings.Trim(fmt.Sprint(checksums), "[]"))
}

func main() {
	var d Demo
	workloads.MustDemo("process_offload", &d)
	run(os.Stdout, d)
}
