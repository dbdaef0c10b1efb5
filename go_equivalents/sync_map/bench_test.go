package main

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Workload is a benchmark workload of workloads.json: workers goroutines each do ops
// operations on keys keys, writes_percent of them stores and the rest loads, on a sync.Map
// (mode "" or "sync.Map"), a map with a Mutex ("mutex") or with an RWMutex ("rwmutex"). The
// key and the kind of each operation follow the same formula as the Python side's.
type Workload struct {
	Workers       int    `json:"workers"`
	Ops           int    `json:"ops"`
	Keys          int    `json:"keys"`
	WritesPercent int    `json:"writes_percent"`
	Mode          string `json:"mode"`
}

type rwMap struct {
	mu sync.RWMutex
	m  map[int]int
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	var load func(int) int
	var store func(int, int)
	switch w.Mode {
	case "", "sync.Map":
		var m sync.Map
		load = func(k int) int {
			if v, ok := m.Load(k); ok {
				return v.(int)
			}
			return 0
		}
		store = func(k, v int) { m.Store(k, v) }
	case "mutex":
		var m MutexMap[int, int]
		load = func(k int) int { v, _ := m.Load(k); return v }
		store = m.Store
	case "rwmutex":
		m := rwMap{m: map[int]int{}}
		load = func(k int) int { m.mu.RLock(); defer m.mu.RUnlock(); return m.m[k] }
		store = func(k, v int) { m.mu.Lock(); defer m.mu.Unlock(); m.m[k] = v }
	default:
		return nil, nil, fmt.Errorf("sync_map: unknown mode %q", w.Mode)
	}
	for k := range w.Keys {
		store(k, k)
	}
	run := func() error {
		var wg sync.WaitGroup
		for worker := range w.Workers {
			wg.Go(func() {
				total := 0
				for j := range w.Ops {
					key := (worker*7919 + j*31) % w.Keys
					if j%100 < w.WritesPercent {
						store(key, j)
					} else {
						total += load(key)
					}
				}
				_ = total
			})
		}
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}
