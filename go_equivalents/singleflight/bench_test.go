package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Workload is a benchmark workload of workloads.json: callers on keys at once, each call
// taking call_ms — the cost of joining a flight, and of the flights themselves.
type Workload struct {
	Callers int `json:"callers"`
	Keys    int `json:"keys"`
	CallMS  int `json:"call_ms"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	keys := make([]string, w.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	run := func() error {
		var g Group
		var wg sync.WaitGroup
		for i := range w.Callers {
			wg.Go(func() {
				_, _, _ = g.Do(keys[i%w.Keys], func() (any, error) {
					time.Sleep(time.Duration(w.CallMS) * time.Millisecond)
					return nil, nil
				})
			})
		}
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}
