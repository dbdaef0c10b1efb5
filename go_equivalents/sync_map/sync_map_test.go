package main

import (
	"os"
	"sync"
	"testing"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestLoadOrStoreHasOneWinnerAndCompareAndSwapLosesNothing(t *testing.T) {
	leakcheck.Check(t)
	stored, loaded, count, seen := exercise(8, 10, 500, 500)
	if stored != 10 || loaded != 8*500-10 || count != 8*500 || seen != 11 {
		t.Fatalf("stored %d, loaded %d, counted %d, saw %d", stored, loaded, count, seen)
	}
}

func TestMutexMapLoadOrStoreHasOneWinner(t *testing.T) {
	leakcheck.Check(t)
	var m MutexMap[string, int]
	var wg sync.WaitGroup
	winners := make(chan int, 32)
	for i := range 32 {
		wg.Go(func() {
			if _, loaded := m.LoadOrStore("k", i); !loaded {
				winners <- i
			}
		})
	}
	wg.Wait()
	close(winners)
	if len(winners) != 1 {
		t.Fatalf("%d winners", len(winners))
	}
}

func TestRangeDuringStoreVisitsEveryLastingKeyOnce(t *testing.T) {
	leakcheck.Check(t)
	var m sync.Map
	for i := range 1000 {
		m.Store(i, i)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			default:
				m.Store(-n-1, n)
			}
		}
	})
	seen := map[int]int{}
	m.Range(func(k, _ any) bool { seen[k.(int)]++; return true })
	close(done)
	wg.Wait()
	for i := range 1000 {
		if seen[i] != 1 {
			t.Fatalf("key %d seen %d times", i, seen[i])
		}
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo sync_map`.
func Example() {
	var d Demo
	workloads.MustDemo("sync_map", &d)
	run(os.Stdout, d)
	// Output:
	// sync_map: 4 workers: LoadOrStore on 10 keys stored 10 and loaded 390; CompareAndSwap counted to 400; Range saw 11 keys
}

func BenchmarkSyncMap(b *testing.B) { harness.Bench(b, "sync_map", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./sync_map.test -test.run '^TestServe$' -serve), it times the workloads
// asked for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "sync_map", setup) }
