package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// Workload is a benchmark workload of workloads.json: Callers goroutines race for one
// OnceValue, fresh each round.
type Workload struct {
	Callers int `json:"callers"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		var calls atomic.Int64
		value := sync.OnceValue(func() int { calls.Add(1); return 42 })
		var wg sync.WaitGroup
		for range w.Callers {
			wg.Go(func() { _ = value() })
		}
		wg.Wait()
		if calls.Load() != 1 {
			return fmt.Errorf("f ran %d times", calls.Load())
		}
		return nil
	}
	return run, func() {}, nil
}
