// Sync map: a map shared by goroutines, with sync.Map — or a map with a Mutex.
//
// Python: concurrency_patterns.sync_map — ThreadSyncMap, AsyncioSyncMap, AnyioSyncMap.
// sync.Map's operations are each atomic: Load, Store, LoadOrStore, LoadAndDelete, Swap,
// CompareAndSwap, CompareAndDelete and Range. Its documentation says most code is better off
// with a plain map guarded by a Mutex (below): sync.Map pays off when keys are written once
// and read many times, or when goroutines work on disjoint sets of keys.
//
//	go run ./sync_map
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:mutexmap]

// MutexMap is the plain map with a Mutex that Go's documentation prefers to sync.Map for
// most uses: typed, and as fast or faster unless keys are written once and read many times.
// The zero MutexMap is empty and ready to use; it must not be copied after first use.
type MutexMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// LoadOrStore returns the existing value and true, or stores value and returns it and false.
func (m *MutexMap[K, V]) LoadOrStore(key K, value V) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.m[key]; ok {
		return v, true
	}
	if m.m == nil {
		m.m = map[K]V{}
	}
	m.m[key] = value
	return value, false
}

// --8<-- [end:mutexmap]

// Load returns the value for key and whether it was there.
func (m *MutexMap[K, V]) Load(key K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

// Store sets key to value.
func (m *MutexMap[K, V]) Store(key K, value V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[K]V{}
	}
	m.m[key] = value
}

// --8<-- [start:go]

// exercise has workers race on one sync.Map: LoadOrStore on shared keys (one winner each),
// a counter kept with CompareAndSwap (no increment lost), then a Range over what is there.
func exercise(workers, keys, calls, increments int) (stored, loaded int64, count int, seen int) {
	var m sync.Map
	m.Store("n", 0)
	var nStored, nLoaded atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				if _, ok := m.LoadOrStore(i%keys, w); ok {
					nLoaded.Add(1)
				} else {
					nStored.Add(1)
				}
			}
			for range increments {
				for {
					old, _ := m.Load("n")
					if m.CompareAndSwap("n", old, old.(int)+1) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	n, _ := m.Load("n")
	m.Range(func(_, _ any) bool { seen++; return true })
	return nStored.Load(), nLoaded.Load(), n.(int), seen
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Workers    int `json:"workers"`
	Keys       int `json:"keys"`
	Calls      int `json:"calls"`
	Increments int `json:"increments"`
}

func run(w io.Writer, d Demo) {
	stored, loaded, count, seen := exercise(d.Workers, d.Keys, d.Calls, d.Increments)
	fmt.Fprintf(w, "sync_map: %d workers: LoadOrStore on %d keys stored %d and loaded %d; "+
		"CompareAndSwap counted to %d; Range saw %d keys\n",
		d.Workers, d.Keys, stored, loaded, count, seen)
}

func main() {
	var d Demo
	workloads.MustDemo("sync_map", &d)
	run(os.Stdout, d)
}
