package main

import (
	"os"
	"slices"
	"testing"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// The same numbers concurrency_patterns.tools.workloads.spin returns: the two sides do the same work.
func TestSpinMatchesThePythonWorkload(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 0, 10: 364560, 200000: 796956, 200003: 644409} {
		if got := Spin(n); got != want {
			t.Errorf("Spin(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestOffloadKeepsInputOrder(t *testing.T) {
	leakcheck.Check(t)
	inputs := []int{5000, 10, 0, 70000, 3}
	if got, want := Offload(Spin, inputs), Sequential(Spin, inputs); !slices.Equal(got, want) {
		t.Errorf("Offload = %v, want %v", got, want)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo process_offload`.
func Example() {
	var d Demo
	workloads.MustDemo("process_offload", &d)
	run(os.Stdout, d)
	// Output:
	// process_offload: 4 jobs of spin(200000+i): checksums [796956 905564 272401 644409]
}

func BenchmarkOffload(b *testing.B) { harness.Bench(b, "process_offload", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./process_offload.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "process_offload", setup) }
