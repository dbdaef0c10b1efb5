// Package harness times a pattern's benchmark workloads, for go test -bench and for the
// Python benchmarks, with the same setup in both.
//
// A pattern's tests hook in with two one-line functions: BenchmarkX calls Bench, and
// TestServe calls Serve. Run with -serve (go test -c, then ./<slug>.test -test.run
// '^TestServe$' -serve), TestServe reads one JSON request per line on stdin, runs the named
// workload the requested number of rounds, and answers one JSON line on stdout with the
// duration of each round, measured inside this process. Starting the process, building the
// binary and setting the workload up (servers, job lists) happen outside the timed rounds, so
// the figure is the pattern's work, as testing.B would measure it.
//
// The pattern programs themselves (main.go) never import this package, and this package does
// not import testing: Bench and Serve take the few methods of *testing.B and *testing.T they
// use, so only test binaries carry the testing machinery.
package harness

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Request asks for rounds timed runs of one workload, after warmup untimed ones. Params, if
// given, are merged over the workload's own (for example the address of a server to fetch from).
type Request struct {
	Workload string         `json:"workload"`
	Rounds   int            `json:"rounds"`
	Warmup   int            `json:"warmup"`
	Params   map[string]any `json:"params"`
}

// Response holds the duration of each timed round, in seconds, and the CPU time this process
// used in it (user + system, from getrusage), or the error that stopped it.
type Response struct {
	Workload string    `json:"workload"`
	Seconds  []float64 `json:"seconds,omitempty"`
	CPU      []float64 `json:"cpu,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Setup prepares one workload from its parameters (JSON), outside the timing. It returns the
// work to time — one round — and a cleanup to run after the last round.
type Setup func(params json.RawMessage) (run func() error, cleanup func(), err error)

func serve(in io.Reader, out io.Writer, named map[string]json.RawMessage, setup Setup) {
	scanner := bufio.NewScanner(in)
	encoder := json.NewEncoder(out)
	fmt.Fprintln(out, `{"ready": true}`)
	for scanner.Scan() {
		var req Request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			_ = encoder.Encode(Response{Error: "bad request: " + err.Error()})
			continue
		}
		_ = encoder.Encode(handle(req, named, setup))
	}
}

func handle(req Request, named map[string]json.RawMessage, setup Setup) Response {
	resp := Response{Workload: req.Workload}
	raw, ok := named[req.Workload]
	if !ok {
		resp.Error = "no workload named " + req.Workload
		return resp
	}
	params, err := merge(raw, req.Params)
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	run, cleanup, err := setup(params)
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	defer cleanup()
	for range req.Warmup {
		if err := run(); err != nil {
			resp.Error = err.Error()
			return resp
		}
	}
	for range max(req.Rounds, 1) {
		runtime.GC() // start every round from the same heap, as testing.B does between runs
		cpuStart := cpuSeconds()
		start := time.Now()
		err := run()
		elapsed := time.Since(start)
		cpu := cpuSeconds() - cpuStart
		if err != nil {
			resp.Error = err.Error()
			return resp
		}
		resp.Seconds = append(resp.Seconds, elapsed.Seconds())
		resp.CPU = append(resp.CPU, cpu)
	}
	return resp
}

// cpuSeconds is the CPU time this process has used so far, user and system.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

func merge(raw json.RawMessage, extra map[string]any) (json.RawMessage, error) {
	if len(extra) == 0 {
		return raw, nil
	}
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return nil, err
	}
	maps.Copy(params, extra)
	return json.Marshal(params)
}

var serveFlag = flag.Bool("serve", false, "TestServe: time the benchmark workloads asked for on stdin")

// Skipper is the part of *testing.T that Serve uses.
type Skipper interface {
	Skip(args ...any)
	Fatal(args ...any)
}

// Serve, called from a pattern's TestServe, answers timing requests for pattern's benchmark
// workloads (from workloads.json) on stdin until it closes, building each with setup. Without
// the -serve flag it skips the test: go test ./... never waits on stdin.
func Serve(t Skipper, pattern string, setup Setup) {
	if !*serveFlag {
		t.Skip("serves only with -serve: the Python benchmarks' way of timing Go")
	}
	named, err := workloads.Benchmarks(pattern)
	if err != nil {
		t.Fatal(err)
	}
	serve(os.Stdin, os.Stdout, named, setup)
}

// Benchmarker is the part of *testing.B that Bench uses (B is *testing.B itself).
type Benchmarker[B any] interface {
	Run(name string, f func(B)) bool
	Loop() bool
	Fatal(args ...any)
	Cleanup(f func())
	ReportAllocs()
}

// Bench runs every benchmark workload of pattern as a sub-benchmark of b, with the same setup
// Serve uses: `go test -bench . ./<pattern>` times the same work the Python side does. Given
// impls (the versions a pattern's setup knows by its "impl" parameter), each workload runs
// once per version, named impl=<version>/<workload>, so that benchstat can set them side by
// side: go tool benchstat -col /impl new.txt.
func Bench[B Benchmarker[B]](b B, pattern string, setup Setup, impls ...string) {
	named, err := workloads.Benchmarks(pattern)
	if err != nil {
		b.Fatal(err)
	}
	if len(impls) == 0 {
		benchWorkloads(b, named, setup, nil)
		return
	}
	for _, impl := range impls {
		b.Run("impl="+impl, func(b B) { benchWorkloads(b, named, setup, map[string]any{"impl": impl}) })
	}
}

func benchWorkloads[B Benchmarker[B]](
	b B, named map[string]json.RawMessage, setup Setup, extra map[string]any,
) {
	for _, name := range slices.Sorted(maps.Keys(named)) {
		b.Run(name, func(b B) {
			params, err := merge(named[name], extra)
			if err != nil {
				b.Fatal(err)
			}
			run, cleanup, err := setup(params)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(cleanup)
			b.ReportAllocs() // allocations per round: what sync.Pool saves, for one
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
