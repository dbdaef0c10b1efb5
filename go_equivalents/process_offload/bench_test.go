package main

import (
	"encoding/json"
)

// Workload is a benchmark workload of workloads.json: Jobs calls of Spin(Spin). Mode picks
// how they run: "goroutines" (the default) or "sequential", the baseline.
type Workload struct {
	Jobs int    `json:"jobs"`
	Spin int    `json:"spin"`
	Mode string `json:"mode"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	inputs := make([]int, w.Jobs)
	for i := range inputs {
		inputs[i] = w.Spin
	}
	each := Offload
	if w.Mode == "sequential" {
		each = Sequential
	}
	run := func() error {
		each(Spin, inputs)
		return nil
	}
	return run, func() {}, nil
}
