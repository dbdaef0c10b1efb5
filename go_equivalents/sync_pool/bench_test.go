package main

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Workload is a benchmark workload of workloads.json: workers goroutines each borrow a buffer
// of size bytes borrows times, write 64 bytes into it and give it back. Mode "" (or
// "sync.Pool") takes it from a sync.Pool, "bounded" from a BoundedPool of max_size, and "new"
// allocates a fresh one each time. With object "table", what is borrowed is an object that is
// slow to build rather than to allocate: a lookup table of size entries.
type Workload struct {
	Workers int    `json:"workers"`
	Borrows int    `json:"borrows"`
	Size    int    `json:"size"`
	MaxSize int    `json:"max_size"`
	Object  string `json:"object"`
	Mode    string `json:"mode"`
}

// table is an object that is slow to build: building it is the cost a pool saves.
type table struct {
	entries map[int]int
	used    int
}

func newTable(size int) *table {
	t := &table{entries: make(map[int]int, size)}
	for i := range size {
		t.entries[i] = i * i
	}
	return t
}

func setupTables(w Workload) (func() error, func(), error) {
	var get func() *table
	var put func(*table)
	switch w.Mode {
	case "", "sync.Pool":
		pool := sync.Pool{New: func() any { return newTable(w.Size) }}
		get = func() *table { return pool.Get().(*table) }
		put = func(t *table) { t.used = 0; pool.Put(t) }
	case "bounded":
		pool := NewBoundedPool(w.MaxSize, func() *table { return newTable(w.Size) },
			func(t *table) { t.used = 0 })
		get, put = pool.Get, pool.Put
	case "new":
		get = func() *table { return newTable(w.Size) }
		put = func(*table) {}
	default:
		return nil, nil, fmt.Errorf("sync_pool: unknown mode %q", w.Mode)
	}
	run := func() error {
		var wg sync.WaitGroup
		for range w.Workers {
			wg.Go(func() {
				for i := range w.Borrows {
					t := get()
					t.used += t.entries[i%w.Size]
					put(t)
				}
			})
		}
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}

var payload = make([]byte, 64)

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	if w.Object == "table" {
		return setupTables(w)
	}
	var get func() *[]byte
	var put func(*[]byte)
	switch w.Mode {
	case "", "sync.Pool":
		pool := sync.Pool{New: func() any { b := make([]byte, w.Size); return &b }}
		get = func() *[]byte { return pool.Get().(*[]byte) }
		put = func(b *[]byte) { pool.Put(b) }
	case "bounded":
		pool := NewBoundedPool(w.MaxSize, func() *[]byte { b := make([]byte, w.Size); return &b },
			func(*[]byte) {})
		get, put = pool.Get, pool.Put
	case "new":
		get = func() *[]byte { b := make([]byte, w.Size); return &b }
		put = func(*[]byte) {}
	default:
		return nil, nil, fmt.Errorf("sync_pool: unknown mode %q", w.Mode)
	}
	var sink sync.Map
	run := func() error {
		var wg sync.WaitGroup
		for worker := range w.Workers {
			wg.Go(func() {
				var last byte
				for range w.Borrows {
					b := get()
					copy(*b, payload)
					last = (*b)[w.Size-1]
					put(b)
				}
				sink.Store(worker, last) // keep the writes observable
			})
		}
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}
