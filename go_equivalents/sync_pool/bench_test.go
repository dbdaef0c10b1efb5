package main

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Workload is a benchmark workload of workloads.json: workers goroutines each borrow a buffer
// of size bytes borrows times, write 64 bytes into it and give it back. Mode "" (or
// "sync.Pool") takes it from a sync.Pool, "bounded" from a BoundedPool of max_size, and "new"
// allocates a fresh one each time.
type Workload struct {
	Workers int    `json:"workers"`
	Borrows int    `json:"borrows"`
	Size    int    `json:"size"`
	MaxSize int    `json:"max_size"`
	Mode    string `json:"mode"`
}

var payload = make([]byte, 64)

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
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
