package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

type secondsResult struct {
	Seconds []float64 `json:"seconds"`
}

// runSleeps starts one goroutine per duration, each sleeping that long, and times how long
// waiting for all of them takes: the Go twin of asyncio.gather over asyncio.sleep calls.
func runSleeps(args []string) (any, error) {
	fs := flags("sleeps")
	list := fs.String("delays", "1s,2s,3s", "comma-separated durations")
	repeat := fs.Int("repeat", 3, "timed rounds")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"repeat": *repeat}); err != nil {
		return nil, err
	}
	var delays []time.Duration
	for _, text := range strings.Split(*list, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("-delays: %q is not a duration", text)
		}
		delays = append(delays, d)
	}
	var out secondsResult
	for range *repeat {
		out.Seconds = append(out.Seconds, timeIt(func() {
			var wg sync.WaitGroup
			for _, d := range delays {
				wg.Go(func() { time.Sleep(d) })
			}
			wg.Wait()
		}))
	}
	return out, nil
}

// runSpawn times rounds of starting n goroutines that do nothing and waiting for all of them.
// With -os-threads each goroutine locks itself to its OS thread and returns without unlocking,
// which makes the runtime end that thread: every goroutine then needs a new OS thread, so the
// round measures creating and ending threads, in the same program.
func runSpawn(args []string) (any, error) {
	fs := flags("spawn")
	n := fs.Int("n", 10_000, "goroutines per round")
	repeat := fs.Int("repeat", 7, "timed rounds")
	osThreads := fs.Bool("os-threads", false, "give each goroutine an OS thread of its own")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"n": *n, "repeat": *repeat}); err != nil {
		return nil, err
	}
	round := func() {
		var wg sync.WaitGroup
		for range *n {
			wg.Go(func() {
				if *osThreads {
					runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
				}
			})
		}
		wg.Wait()
	}
	round() // warm-up: the runtime keeps dead goroutines for reuse, as it would in a server
	var out secondsResult
	for range *repeat {
		out.Seconds = append(out.Seconds, timeIt(round))
	}
	return out, nil
}

// runSwitch times n round trips of a token between two goroutines over unbuffered channels.
// With -os-threads each goroutine first locks itself to its own OS thread, so every hand-off
// must wake a sleeping thread: the kernel's context switch instead of the Go scheduler's.
func runSwitch(args []string) (any, error) {
	fs := flags("switch")
	n := fs.Int("n", 100_000, "round trips per round")
	repeat := fs.Int("repeat", 5, "timed rounds")
	osThreads := fs.Bool("os-threads", false, "lock each goroutine to its own OS thread")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"n": *n, "repeat": *repeat}); err != nil {
		return nil, err
	}
	var out secondsResult
	for range *repeat + 1 { // the first round warms up and is dropped
		ping, pong := make(chan struct{}), make(chan struct{})
		ready := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			if *osThreads {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			close(ready)
			for range ping {
				pong <- struct{}{}
			}
		})
		if *osThreads {
			runtime.LockOSThread()
		}
		<-ready
		seconds := timeIt(func() {
			for range *n {
				ping <- struct{}{}
				<-pong
			}
		})
		close(ping)
		wg.Wait()
		if *osThreads {
			runtime.UnlockOSThread()
		}
		out.Seconds = append(out.Seconds, seconds)
	}
	out.Seconds = out.Seconds[1:]
	return out, nil
}
