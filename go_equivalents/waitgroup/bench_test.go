package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// Workload is a benchmark workload of workloads.json: start Tasks goroutines that do nothing
// with wg.Go, then Wait — the cost of the group itself.
type Workload struct {
	Tasks int `json:"tasks"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		var wg sync.WaitGroup
		var done atomic.Int64
		for range w.Tasks {
			wg.Go(func() { done.Add(1) })
		}
		wg.Wait()
		if int(done.Load()) != w.Tasks {
			return fmt.Errorf("%d of %d tasks done", done.Load(), w.Tasks)
		}
		return nil
	}
	return run, func() {}, nil
}
