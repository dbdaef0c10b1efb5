package main

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is reported three ways, because the articles mean different things by "memory":
//   - RSS, resident set size: pages of this process in RAM, as the OS counts them. What a
//     machine actually spends; it moves in 4 KiB pages.
//   - the runtime's own accounting (runtime.MemStats): heap and goroutine stacks in use,
//     exact to the byte, but blind to what the runtime has not yet returned to the OS.
//   - peak RSS (getrusage's maxrss): the most resident memory the process ever had.

// rss is this process's resident set size in bytes, from /proc/self/statm.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	fields := bytes.Fields(data)
	if len(fields) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

// peakRSS is the most resident memory this process has had, in bytes: the kernel's
// high-water mark, VmHWM in /proc/self/status. Not getrusage's Maxrss, which Linux carries
// across exec: a process started by a big parent would report the parent's size as its own.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

type goroutinesResult struct {
	N            int     `json:"n"`
	SpawnSeconds float64 `json:"spawn_seconds"` // until every goroutine is running and parked
	TotalSeconds float64 `json:"total_seconds"` // until every goroutine has also finished
	RSSDelta     int64   `json:"rss_delta"`     // bytes, while all n are parked
	StackDelta   int64   `json:"stack_delta"`   // bytes of goroutine stacks in use (MemStats.StackInuse)
	HeapDelta    int64   `json:"heap_delta"`    // bytes of heap in use (the g structs live here)
	PeakRSS      int64   `json:"peak_rss"`
}

// runGoroutines starts n goroutines that each block on one channel, measures memory while all
// of them are parked, then releases them and waits for all to finish.
func runGoroutines(args []string) (any, error) {
	fs := flags("goroutines")
	n := fs.Int("n", 1000, "goroutines")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"n": *n}); err != nil {
		return nil, err
	}
	runtime.GC()
	before, rssBefore := memStats(), rss()

	release := make(chan struct{})
	var parked, finished sync.WaitGroup
	parked.Add(*n)
	start := time.Now()
	for range *n {
		finished.Go(func() {
			parked.Done()
			<-release
		})
	}
	parked.Wait()
	spawn := time.Since(start).Seconds()
	// A goroutine calls parked.Done just before it blocks; give the last ones time to get
	// there, so every stack counted is one of a parked goroutine.
	time.Sleep(10 * time.Millisecond)
	after, rssAfter := memStats(), rss()
	start2 := time.Now()
	close(release)
	finished.Wait()
	total := spawn + time.Since(start2).Seconds()

	return goroutinesResult{
		N: *n, SpawnSeconds: spawn, TotalSeconds: total,
		RSSDelta:   rssAfter - rssBefore,
		StackDelta: int64(after.StackInuse) - int64(before.StackInuse),
		HeapDelta:  int64(after.HeapInuse) - int64(before.HeapInuse),
		PeakRSS:    peakRSS(),
	}, nil
}

// Point is the articles' three-coordinate point: 24 bytes, no header, no pointers.
type Point struct {
	X, Y, Z float64
}

type pointsResult struct {
	N         int     `json:"n"`
	HeapDelta int64   `json:"heap_delta"` // bytes allocated for the slice (MemStats.HeapAlloc)
	RSSDelta  int64   `json:"rss_delta"`
	Printed   uint64  `json:"printed_mib"` // what the article's program prints: m.Alloc/1024/1024
	Checksum  float64 `json:"checksum"`
}

// runPoints builds the articles' slice of n points and measures what it added to the heap.
func runPoints(args []string) (any, error) {
	fs := flags("points")
	n := fs.Int("n", 1_000_000, "points")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"n": *n}); err != nil {
		return nil, err
	}
	runtime.GC()
	before, rssBefore := memStats(), rss()
	points := make([]Point, *n)
	for i := range points {
		points[i] = Point{float64(i), float64(i * 2), float64(i * 3)}
	}
	after, rssAfter := memStats(), rss()
	out := pointsResult{
		N:         *n,
		HeapDelta: int64(after.HeapAlloc) - int64(before.HeapAlloc),
		RSSDelta:  rssAfter - rssBefore,
		Printed:   after.Alloc / 1024 / 1024,
		Checksum:  points[len(points)-1].Z,
	}
	runtime.KeepAlive(points)
	return out, nil
}
