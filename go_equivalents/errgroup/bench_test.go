package main

import (
	"encoding/json"
)

// Workload is a benchmark workload of workloads.json: tasks functions that do nothing, started
// under a limit (0: none), then waited for — the cost of the group itself.
type Workload struct {
	Tasks int `json:"tasks"`
	Limit int `json:"limit"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		var g Group
		if w.Limit > 0 {
			g.SetLimit(w.Limit)
		}
		for range w.Tasks {
			g.Go(func() error { return nil })
		}
		return g.Wait()
	}
	return run, func() {}, nil
}
