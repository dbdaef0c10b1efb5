// Package leakcheck fails a test that leaves goroutines running — the Go side of the Python
// suite's rule that no task, thread or process outlives the call that made it.
package leakcheck

import (
	"runtime"
	"time"
)

// TB is the part of testing.TB that Check uses; leakcheck does not import testing, so that
// nothing outside _test.go files links it.
type TB interface {
	Helper()
	Cleanup(f func())
	Errorf(format string, args ...any)
}

// Check records how many goroutines run now and, when the test ends, fails it if more are
// still running after a grace period for goroutines that are finishing. Call it first, so its
// cleanup runs after the test's other cleanups (servers closed, connections dropped).
func Check(t TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if after := runtime.NumGoroutine(); after > before {
			stacks := make([]byte, 1<<16)
			stacks = stacks[:runtime.Stack(stacks, true)]
			t.Errorf("%d goroutine(s) outlived the test:\n%s", after-before, stacks)
		}
	})
}
