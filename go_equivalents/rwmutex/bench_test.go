package main

import (
	"encoding/json"
	"fmt"
)

// Workload is a benchmark workload of workloads.json: the demo, larger.
type Workload struct {
	Readers int `json:"readers"`
	Writers int `json:"writers"`
	Rounds  int `json:"rounds"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		if final, torn := Exercise(w.Readers, w.Writers, w.Rounds); final != w.Writers*w.Rounds || torn != 0 {
			return fmt.Errorf("final %d, torn %d", final, torn)
		}
		return nil
	}
	return run, func() {}, nil
}
