// Claims: the Go side of the claims ledger (python -m concurrency_patterns claims).
//
// The articles this project checks make claims about Go: how fast it computes, how little a
// goroutine costs, how many requests a net/http server answers. Each subcommand here measures
// one of those things on this machine and prints one JSON object, which the ledger reads beside
// its Python measurement of the same thing. Every timing is taken inside this process, around
// the work only: building the binary, starting the process and reading input files are outside.
//
//	go run ./claims fib -n 32 -repeat 10        # CPU: recursive Fibonacci
//	go run ./claims goroutines -n 100000        # memory: goroutines parked on a channel
//	go run ./claims load -url URL -c 64         # HTTP: a keep-alive load generator
//
// Run it with no arguments to list every subcommand.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// A command is one measurement: it parses its flags and returns what it measured.
type command struct {
	about string
	run   func(args []string) (any, error)
}

var commands = map[string]command{
	"fib":        {"time recursive fib(n), units split over goroutines", runFib},
	"json":       {"time json.Unmarshal of a file of records", runJSON},
	"goroutines": {"memory and time of n goroutines parked on a channel", runGoroutines},
	"points":     {"memory of n three-float points in one slice", runPoints},
	"sleeps":     {"time goroutines that sleep for the given durations, waited for together", runSleeps},
	"spawn":      {"time starting and waiting for n goroutines", runSpawn},
	"switch":     {"time a ping-pong between two goroutines (or two locked OS threads)", runSwitch},
	"stall":      {"the longest gap a ticking goroutine sees while another computes", runStall},
	"serve":      {"a net/http JSON server (until stdin closes)", runServe},
	"upstream":   {"the upstream API and cache the servers call (until stdin closes)", runUpstream},
	"load":       {"a keep-alive HTTP load generator", runLoad},
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]].run == nil {
		usage(os.Stderr)
		os.Exit(2)
	}
	result, err := commands[os.Args[1]].run(os.Args[2:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "claims %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if result != nil {
		if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
			os.Exit(1)
		}
	}
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: claims <command> [flags]; commands:")
	for _, name := range names {
		fmt.Fprintf(w, "  %-11s %s\n", name, commands[name].about)
	}
}

// flags makes a subcommand's flag set; parse errors are returned, not fatal.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// positive checks that each named flag value is at least 1.
func positive(values map[string]int) error {
	var bad []string
	for name, v := range values {
		if v < 1 {
			bad = append(bad, fmt.Sprintf("-%s must be at least 1, got %d", name, v))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}
