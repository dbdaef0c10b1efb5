// Package workloads reads workloads.json, the file that holds the inputs of every demo and
// benchmark, so that the Python and Go sides always run the same workload, and the twin
// contracts both sides' tests check. It lives in the
// Python package (concurrency_patterns/tools/workloads.json), which ships it as package data.
package workloads

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvVar names a variable that, when set, is the path of the workloads file.
const EnvVar = "CONCURRENCY_PATTERNS_WORKLOADS"

// File is where workloads.json is, relative to the repository root.
var File = filepath.Join("concurrency_patterns", "tools", "workloads.json")

// Path returns where workloads.json is: $CONCURRENCY_PATTERNS_WORKLOADS, or the repository's,
// found walking up from the working directory (go run and go test both run inside
// go_equivalents/, one or two levels below the repository root).
func Path() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, File)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New(File + " not found above the working directory; set " + EnvVar)
		}
		dir = parent
	}
}

type file struct {
	Demo       map[string]json.RawMessage            `json:"demo"`
	Benchmarks map[string]map[string]json.RawMessage `json:"benchmarks"`
	Twins      map[string]map[string]json.RawMessage `json:"twins"`
}

func load() (*file, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// Demo decodes the demo workload of pattern into v (a pointer to the pattern's own struct).
func Demo(pattern string, v any) error {
	f, err := load()
	if err != nil {
		return err
	}
	raw, ok := f.Demo[pattern]
	if !ok {
		return fmt.Errorf("workloads.json has no demo for %q", pattern)
	}
	return json.Unmarshal(raw, v)
}

// Benchmarks returns the named benchmark workloads of pattern, each still encoded: the
// pattern decodes each into its own struct.
func Benchmarks(pattern string) (map[string]json.RawMessage, error) {
	f, err := load()
	if err != nil {
		return nil, err
	}
	named, ok := f.Benchmarks[pattern]
	if !ok {
		return nil, fmt.Errorf("workloads.json has no benchmarks for %q", pattern)
	}
	return named, nil
}

// Twins returns the twin contracts of pattern, each still encoded: a scenario that a Go test
// and a Python test both run, with the trace both must produce (its "trace" field) and its
// parameters. The pattern's test decodes each into its own struct.
func Twins(pattern string) (map[string]json.RawMessage, error) {
	f, err := load()
	if err != nil {
		return nil, err
	}
	named, ok := f.Twins[pattern]
	if !ok {
		return nil, fmt.Errorf("workloads.json has no twins for %q", pattern)
	}
	return named, nil
}

// MustDemo is Demo for a program's main: it exits with the error on failure.
func MustDemo(pattern string, v any) {
	if err := Demo(pattern, v); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
