// Package twins runs a pattern's twin contracts: the scenarios in workloads.json's "twins"
// section, which a Go test and a Python test both run, each side producing the trace written
// there. The Go side runs them against golang.org/x/sync and golang.org/x/time, so the Python
// variants that claim those modules' semantics are held to what the modules really do.
//
// Every scenario runs inside a testing/synctest bubble: time is virtual and moves only when
// every goroutine of the scenario is blocked, so a trace with times in it is exact on any
// machine, and synctest.Wait lets a scenario wait until every goroutine has blocked.
package twins

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// A Scenario runs one twin contract and returns its trace. params is the contract's entry in
// workloads.json (its "trace" and its parameters).
type Scenario func(t *testing.T, params json.RawMessage) []string

// Run runs every twin contract of pattern with the scenario of the same name and checks its
// trace. A contract without a scenario fails, and so does a scenario without a contract.
func Run(t *testing.T, pattern string, scenarios map[string]Scenario) {
	t.Helper()
	named := load(t, pattern, scenarios)
	for _, name := range slices.Sorted(maps.Keys(named)) {
		if _, ok := scenarios[name]; !ok {
			t.Errorf("no Go scenario for the twin contract %q of %s", name, pattern)
		}
	}
	run(t, named, scenarios)
}

// RunSome runs only the scenarios given (for a version that keeps some of the contracts on
// purpose, such as a teaching version); each must be a twin contract of pattern.
func RunSome(t *testing.T, pattern string, scenarios map[string]Scenario) {
	t.Helper()
	run(t, load(t, pattern, scenarios), scenarios)
}

func load(t *testing.T, pattern string, scenarios map[string]Scenario) map[string]json.RawMessage {
	t.Helper()
	named, err := workloads.Twins(pattern)
	if err != nil {
		t.Fatal(err)
	}
	for name := range scenarios {
		if _, ok := named[name]; !ok {
			t.Errorf("scenario %q is not a twin contract of %s in workloads.json", name, pattern)
		}
	}
	return named
}

func run(t *testing.T, named map[string]json.RawMessage, scenarios map[string]Scenario) {
	for _, name := range slices.Sorted(maps.Keys(scenarios)) {
		raw, ok := named[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var want struct {
				Trace []string `json:"trace"`
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			var got []string
			synctest.Test(t, func(t *testing.T) { got = scenarios[name](t, raw) })
			if !slices.Equal(got, want.Trace) {
				t.Fatalf("trace\n got  %q\n want %q", got, want.Trace)
			}
		})
	}
}

// Trace collects a scenario's lines from any goroutine, in the order they were logged.
type Trace struct {
	mu    sync.Mutex
	lines []string
}

// Log adds one line, formatted as fmt.Sprintf does.
func (tr *Trace) Log(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
}

// Lines returns the lines logged so far.
func (tr *Trace) Lines() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.lines)
}

// Outcome is how a trace shows an error: "ok" for nil, else its message.
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
