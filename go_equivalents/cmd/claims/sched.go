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

type stallResult struct {
	// The longest gap between two ticks of a goroutine that asks to wake every millisecond,
	// while another goroutine computes without a single function call, one per round.
	LongestGap []float64 `json:"longest_gap"`
	Busy       float64   `json:"busy"`
	Procs      int       `json:"procs"`
}

// runStall measures whether a goroutine that never yields holds up the others. With
// -procs 1 there is one P: the ticking goroutine can run only if the scheduler takes the core
// from the busy one (asynchronous preemption, by signal, about every 10 ms), which is what
// "preemptive" means; a cooperative scheduler would let the busy goroutine run to its end.
func runStall(args []string) (any, error) {
	fs := flags("stall")
	busy := fs.Duration("busy", 200*time.Millisecond, "how long the busy goroutine computes")
	procs := fs.Int("procs", 1, "GOMAXPROCS while measuring")
	repeat := fs.Int("repeat", 3, "timed rounds")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"procs": *procs, "repeat": *repeat}); err != nil {
		return nil, err
	}
	if *busy <= 0 {
		return nil, fmt.Errorf("-busy: %v is not a positive duration", *busy)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	// A loop with no call in it, sized to take about -busy: a call would give the scheduler a
	// cooperative chance to switch, and the point is to offer none.
	iterations := calibrate(*busy)
	out := stallResult{Busy: busy.Seconds(), Procs: *procs}
	for range *repeat {
		done := make(chan struct{})
		gaps := make(chan time.Duration, 1)
		go func() { // the ticker: asks to wake every millisecond, keeps its longest gap
			var longest time.Duration
			last := time.Now()
			for {
				select {
				case <-done:
					gaps <- longest
					return
				case <-time.After(time.Millisecond):
				}
				now := time.Now()
				longest = max(longest, now.Sub(last))
				last = now
			}
		}()
		time.Sleep(5 * time.Millisecond) // the ticker is running
		spin(iterations)
		close(done)
		out.LongestGap = append(out.LongestGap, (<-gaps).Seconds())
	}
	return out, nil
}

func spin(n uint64) {
	var x uint64
	for i := range n {
		x += i * i
	}
	sink = int(x & 1) // a result it must keep, or the compiler could drop the loop
}

func calibrate(target time.Duration) uint64 {
	const probe = 10_000_000
	start := time.Now()
	spin(probe)
	took := time.Since(start)
	return uint64(float64(probe) * float64(target) / float64(max(took, time.Microsecond)))
}
