package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/leakcheck"
)

func TestFib(t *testing.T) {
	for n, want := range []int{0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55} {
		if got := fib(n); got != want {
			t.Errorf("fib(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestFibCommandSharesUnitsAmongGoroutines(t *testing.T) {
	leakcheck.Check(t)
	got, err := runFib([]string{"-n", "15", "-units", "3", "-goroutines", "2", "-repeat", "2"})
	if err != nil {
		t.Fatal(err)
	}
	r := got.(fibResult)
	if r.Units != 3 || r.Goroutines != 2 || len(r.Seconds) != 2 {
		t.Errorf("got %+v", r)
	}
}

func TestBadFlagsAreErrorsNamingTheFlag(t *testing.T) {
	for name, run := range map[string]func([]string) (any, error){
		"fib": runFib, "goroutines": runGoroutines, "spawn": runSpawn, "switch": runSwitch,
		"points": runPoints, "load": runLoad,
	} {
		flag := map[string]string{"fib": "-n", "goroutines": "-n", "spawn": "-n", "switch": "-n",
			"points": "-n", "load": "-c"}[name]
		if _, err := run([]string{flag, "0"}); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s %s 0: err = %v, want one naming %s", name, flag, err, flag)
		}
	}
	if _, err := runSleeps([]string{"-delays", "soon"}); err == nil || !strings.Contains(err.Error(), "-delays") {
		t.Errorf("sleeps -delays soon: err = %v", err)
	}
	if _, err := runLoad([]string{"-url", "ftp://x"}); err == nil || !strings.Contains(err.Error(), "-url") {
		t.Errorf("load -url ftp://x: err = %v", err)
	}
}

func TestSleepsRunTogether(t *testing.T) {
	leakcheck.Check(t)
	got, err := runSleeps([]string{"-delays", "20ms,40ms,60ms", "-repeat", "1"})
	if err != nil {
		t.Fatal(err)
	}
	// Together they take the longest, not the sum; the bound is loose for a busy machine.
	if s := got.(secondsResult).Seconds[0]; s < 0.060 || s > 0.115 {
		t.Errorf("sleeps of 20, 40 and 60 ms took %.3fs", s)
	}
}

func TestGoroutinesAreCountedAndAllFinish(t *testing.T) {
	leakcheck.Check(t)
	got, err := runGoroutines([]string{"-n", "2000"})
	if err != nil {
		t.Fatal(err)
	}
	r := got.(goroutinesResult)
	// Each parked goroutine holds at least its smallest stack, 2 KiB.
	if r.StackDelta < 2000*2048 || r.TotalSeconds < r.SpawnSeconds {
		t.Errorf("got %+v", r)
	}
}

func TestPointsAreTwentyFourBytesEach(t *testing.T) {
	got, err := runPoints([]string{"-n", "100000"})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.(pointsResult); r.HeapDelta < 2_400_000 || r.HeapDelta > 2_500_000 {
		t.Errorf("100,000 points took %d bytes of heap, want about 2.4 MB", r.HeapDelta)
	}
}

func TestSpawnAndSwitchBothWays(t *testing.T) {
	leakcheck.Check(t)
	for _, args := range [][]string{
		{"-n", "100", "-repeat", "2"}, {"-n", "20", "-repeat", "2", "-os-threads"},
	} {
		for name, run := range map[string]func([]string) (any, error){"spawn": runSpawn, "switch": runSwitch} {
			got, err := run(args)
			if err != nil {
				t.Fatalf("%s %v: %v", name, args, err)
			}
			if n := len(got.(secondsResult).Seconds); n != 2 {
				t.Errorf("%s %v: %d rounds, want 2", name, args, n)
			}
		}
	}
}

func TestJSONParsesTypedAndUntyped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.json")
	records := `[{"id": 1, "name": "a", "email": "a@x", "active": true, "score": 1.5, "tags": ["x"]},
	             {"id": 2, "name": "b", "email": "b@x", "active": false, "score": 2, "tags": []}]`
	if err := os.WriteFile(path, []byte(records), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"-untyped"}} {
		got, err := runJSON(append([]string{"-file", path, "-repeat", "2"}, extra...))
		if err != nil {
			t.Fatal(err)
		}
		if r := got.(jsonResult); r.Records != 2 || len(r.Seconds) != 2 || r.Typed != (extra == nil) {
			t.Errorf("%v: got %+v", extra, r)
		}
	}
	if err := os.WriteFile(path, []byte("[{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runJSON([]string{"-file", path}); err == nil {
		t.Error("a truncated file parsed without error")
	}
}

func TestReadResponseFindsEachBody(t *testing.T) {
	responses := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
		"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\nok" +
		"HTTP/1.1 200 OK\r\nX: y\r\n\r\n"
	r := bufio.NewReader(strings.NewReader(responses))
	for i, want := range []struct {
		status    int
		keepAlive bool
		fails     bool
	}{{200, true, false}, {404, true, false}, {200, false, false}, {0, false, true}} {
		status, keepAlive, err := readResponse(r)
		if (err != nil) != want.fails || status != want.status || keepAlive != want.keepAlive {
			t.Errorf("response %d: status %d keep-alive %v err %v; want %+v", i, status, keepAlive, err, want)
		}
	}
}

// The servers and the load generator together, as the ledger runs them.
func TestLoadDrivesTheServerAndTheUpstream(t *testing.T) {
	leakcheck.Check(t)
	upstream := httptest.NewServer(newUpstream(5 * time.Millisecond))
	defer upstream.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	server := httptest.NewServer(newServer(upstream.URL, client))
	defer server.Close()

	response, err := http.Get(server.URL + "/data/7")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	err = json.NewDecoder(response.Body).Decode(&body)
	response.Body.Close()
	if err != nil || body["cache"] != "cached 7" || body["api"].(map[string]any)["id"] != "7" {
		t.Fatalf("GET /data/7: %v %v", body, err)
	}
	http.DefaultClient.CloseIdleConnections()

	for _, path := range []string{"/json", "/data/{i}"} {
		got, err := runLoad([]string{"-url", server.URL + path, "-c", "4", "-duration", "200ms", "-warmup", "50ms"})
		if err != nil {
			t.Fatal(err)
		}
		r := got.(loadResult)
		if r.Requests == 0 || r.Errors != 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: %+v", path, r)
		}
	}
}

// The article's handler answers what the idiomatic one does.
func TestNaiveDataAnswersLikeTheIdiomaticHandler(t *testing.T) {
	leakcheck.Check(t)
	upstream := httptest.NewServer(newUpstream(time.Millisecond))
	defer upstream.Close()
	defer http.DefaultClient.CloseIdleConnections()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	server := httptest.NewServer(newServer(upstream.URL, client))
	defer server.Close()
	response, err := http.Get(server.URL + "/data-naive/9")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	err = json.NewDecoder(response.Body).Decode(&body)
	response.Body.Close()
	if err != nil || body["cache"] != "cached 9" || body["api"].(map[string]any)["id"] != "9" {
		t.Fatalf("GET /data-naive/9: %v %v", body, err)
	}
}

// Open loop: the connections together keep to the offered rate, and the latencies count from
// when each request was due.
func TestLoadAtAFixedRateKeepsToTheSchedule(t *testing.T) {
	leakcheck.Check(t)
	server := httptest.NewServer(newServer("", http.DefaultClient))
	defer server.Close()
	got, err := runLoad([]string{"-url", server.URL + "/json", "-c", "20", "-rate", "400",
		"-duration", "500ms", "-warmup", "100ms", "-ramp", "100ms"})
	if err != nil {
		t.Fatal(err)
	}
	r := got.(loadResult)
	if r.Errors != 0 || r.Rate != 400 || r.RPS < 300 || r.RPS > 500 || r.Mean <= 0 || r.P99 < r.P50 {
		t.Errorf("got %+v, want about 400 requests/s and no errors", r)
	}
}

// A server slower than the schedule: an open loop charges the wait to the latency.
func TestLoadAtAFixedRateShowsAServerFallingBehind(t *testing.T) {
	leakcheck.Check(t)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "late")
	}))
	defer server.Close()
	// One connection due every 5 ms, answered every 20 ms: the backlog grows all window long.
	got, err := runLoad([]string{"-url", server.URL + "/", "-c", "1", "-rate", "200",
		"-duration", "300ms", "-warmup", "0s"})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.(loadResult); r.P99 < 0.1 {
		t.Errorf("P99 %v s: an open loop must count the time a request waited for its turn", r.P99)
	}
}

func TestLoadCountsFailedRequests(t *testing.T) {
	leakcheck.Check(t)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "3") {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "yes")
	}))
	defer server.Close()
	got, err := runLoad([]string{"-url", server.URL + "/{i}", "-c", "2", "-duration", "100ms", "-warmup", "0s"})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.(loadResult); r.Errors == 0 || !strings.Contains(r.FirstError, "500") {
		t.Errorf("got %+v, want failures with status 500", r)
	}
}

func TestABusyGoroutineDoesNotStallTheOthers(t *testing.T) {
	leakcheck.Check(t)
	got, err := runStall([]string{"-busy", "300ms", "-procs", "1", "-repeat", "1"})
	if err != nil {
		t.Fatal(err)
	}
	r := got.(stallResult)
	// On one P the ticker runs only by preemption: its longest gap is the preemption
	// interval (about 10 ms), far from the 300 ms the busy loop takes.
	if len(r.LongestGap) != 1 || r.LongestGap[0] > 0.15 {
		t.Errorf("got %+v", r)
	}
	if _, err := runStall([]string{"-busy", "0s"}); err == nil || !strings.Contains(err.Error(), "-busy") {
		t.Errorf("stall -busy 0s: err = %v", err)
	}
}
