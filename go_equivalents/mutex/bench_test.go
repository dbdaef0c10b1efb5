package main

import (
	"encoding/json"
	"fmt"
)

// Workload is a benchmark workload of workloads.json: the demo's counter, larger.
type Workload struct {
	Tasks      int `json:"tasks"`
	Increments int `json:"increments"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		if got, want := Count(w.Tasks, w.Increments), w.Tasks*w.Increments; got != want {
			return fmt.Errorf("counter %d, want %d", got, want)
		}
		return nil
	}
	return run, func() {}, nil
}
