package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// listen serves handler on a free loopback port, prints {"url": ...} for the process that
// started this one, and serves until stdin closes: that parent's way of saying stop.
func listen(handler http.Handler) error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"url": "http://" + listener.Addr().String()}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return server.Close()
}

// runServe is the Go server of the HTTP claims (see newServer).
func runServe(args []string) (any, error) {
	fs := flags("serve")
	upstream := fs.String("upstream", "", "base URL of the upstream (for /data)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// One client for the server's life, so connections to the upstream are kept and reused.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	return nil, listen(newServer(*upstream, client))
}

// newServer routes GET /json to a small JSON object, and GET /data/{id} to a handler that
// calls the upstream API and the cache concurrently, then answers both results.
func newServer(upstream string, client *http.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "pong"})
	})
	mux.HandleFunc("GET /data/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var api any
		var cache string
		var apiErr, cacheErr error
		var wg sync.WaitGroup
		wg.Go(func() { apiErr = getJSON(r, client, upstream+"/api/"+id, &api) })
		wg.Go(func() { cache, cacheErr = getText(r, client, upstream+"/cache/"+id) })
		wg.Wait()
		if err := errors.Join(apiErr, cacheErr); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"api": api, "cache": cache})
	})
	mux.HandleFunc("GET /data-naive/{id}", naiveData(upstream))
	return mux
}

// naiveData is the article's Go handler as written: two goroutines, each calling http.Get,
// which uses http.DefaultClient. Its transport keeps at most two idle connections per host
// (http.DefaultMaxIdleConnsPerHost), so under load most calls open a new connection. The
// article ignores the calls' errors (and would crash on the nil response); here a failed call
// answers 502, so that the load generator counts it.
func naiveData(upstream string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var apiData, cacheData any
		var apiErr, cacheErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			resp, err := http.Get(upstream + "/api/" + id)
			if apiErr = err; err != nil {
				return
			}
			defer resp.Body.Close()
			apiErr = json.NewDecoder(resp.Body).Decode(&apiData)
		}()
		go func() {
			defer wg.Done()
			resp, err := http.Get(upstream + "/cache/" + id)
			if cacheErr = err; err != nil {
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			cacheData, cacheErr = string(body), err
		}()
		wg.Wait()
		if err := errors.Join(apiErr, cacheErr); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"api": apiData, "cache": cacheData})
	}
}

func getJSON(r *http.Request, client *http.Client, target string, into any) error {
	body, err := get(r, client, target)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, into)
}

func getText(r *http.Request, client *http.Client, target string) (string, error) {
	body, err := get(r, client, target)
	return string(body), err
}

func get(r *http.Request, client *http.Client, target string) ([]byte, error) {
	request, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err == nil && response.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d", target, response.StatusCode)
	}
	return body, err
}

// runUpstream serves newUpstream until stdin closes.
func runUpstream(args []string) (any, error) {
	fs := flags("upstream")
	delay := fs.Duration("delay", 20*time.Millisecond, "how long the API takes to answer")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return nil, listen(newUpstream(*delay))
}

// newUpstream stands in for the remote API and the cache of the articles' I/O-bound endpoint:
// GET /api/{id} answers a JSON object after delay; GET /cache/{id} answers at once.
func newUpstream(delay time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": %q, "name": "item %s", "price": 9.99}`, r.PathValue("id"), r.PathValue("id"))
	})
	mux.HandleFunc("GET /cache/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "cached %s", r.PathValue("id"))
	})
	return mux
}

type loadResult struct {
	Connections int     `json:"connections"`
	Rate        float64 `json:"rate,omitempty"` // offered requests/s, open loop; 0: closed loop
	Requests    int     `json:"requests"`       // answered with 200 inside the measured window
	Starved     int     `json:"starved"`        // connections that had none of those answered
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	Mean        float64 `json:"mean"` // latencies, seconds
	P50         float64 `json:"p50"`
	P90         float64 `json:"p90"`
	P99         float64 `json:"p99"`
	CPUSeconds  float64 `json:"cpu_seconds"` // this load generator's own CPU in the window
}

// runLoad keeps -c connections busy for -warmup plus -duration, each sending one GET after
// another (HTTP/1.1 keep-alive, no pipelining), and reports the requests answered during the
// -duration window. It speaks just enough HTTP over raw TCP to stay cheap: a load generator
// that costs as much as the server it drives measures itself. {i} in the URL is replaced by a
// counter, so each request can ask for a different id.
//
// By default the load is a closed loop: each connection sends its next request as soon as the
// last is answered, so the server sets the pace, and by Little's law the mean latency is
// connections / throughput. With -rate the load is an open loop: the connections together send
// -rate requests per second on a fixed schedule, whether or not the server keeps up, and each
// latency counts from the moment its request was due, not from when it could be sent, so a
// server that falls behind shows it (the "coordinated omission" a closed loop hides).
//
// With -ramp the connections open one after another over that time, before the warm-up, as a
// load test ramps up its users: ten thousand connects at once would overflow a listen backlog.
func runLoad(args []string) (any, error) {
	fs := flags("load")
	target := fs.String("url", "", "http://127.0.0.1:port/path, {i} replaced by a counter")
	connections := fs.Int("c", 64, "connections, each with one request in flight")
	duration := fs.Duration("duration", 3*time.Second, "the measured window")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "load before the window, not measured")
	ramp := fs.Duration("ramp", 0, "open the connections one after another over this time")
	rate := fs.Float64("rate", 0, "open loop: requests per second over all connections (0: closed loop)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"c": *connections}); err != nil {
		return nil, err
	}
	if *duration <= 0 || *warmup < 0 || *ramp < 0 {
		return nil, fmt.Errorf("-duration must be positive, -warmup and -ramp not negative")
	}
	if *rate < 0 {
		return nil, fmt.Errorf("-rate must not be negative, got %g", *rate)
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-url: want http://host:port/path, got %q", *target)
	}
	path := strings.Replace(u.RequestURI(), "%7Bi%7D", "{i}", 1)

	begin := time.Now()
	windowStart := begin.Add(*ramp + *warmup)
	windowEnd := windowStart.Add(*duration)
	latencies := make([][]time.Duration, *connections)
	errs := make([]error, *connections)
	errorCounts := make([]int, *connections)
	var wg sync.WaitGroup
	for c := range *connections {
		d := driver{host: u.Host, path: path, worker: c, windowStart: windowStart, windowEnd: windowEnd,
			opening: begin.Add(*ramp * time.Duration(c) / time.Duration(*connections))}
		if *rate > 0 {
			// Each connection sends every connections/rate seconds; the phases are spread
			// evenly, so the server sees a steady stream, not bursts.
			d.interval = time.Duration(float64(*connections) / *rate * float64(time.Second))
			d.first = begin.Add(*ramp + d.interval*time.Duration(c)/time.Duration(*connections))
		}
		wg.Go(func() { latencies[c], errorCounts[c], errs[c] = d.drive() })
	}
	time.Sleep(time.Until(windowStart))
	cpuStart := cpuSeconds()
	time.Sleep(time.Until(windowEnd))
	cpu := cpuSeconds() - cpuStart
	wg.Wait()

	out := loadResult{Connections: *connections, Rate: *rate, Seconds: duration.Seconds(), CPUSeconds: cpu}
	var all []time.Duration
	var total time.Duration
	for c := range *connections {
		all = append(all, latencies[c]...)
		if len(latencies[c]) == 0 {
			out.Starved++
		}
		out.Errors += errorCounts[c]
		if errs[c] != nil && out.FirstError == "" {
			out.FirstError = errs[c].Error()
		}
	}
	out.Requests = len(all)
	if out.Requests == 0 {
		return nil, fmt.Errorf("no request was answered: %s", out.FirstError)
	}
	out.RPS = float64(out.Requests) / out.Seconds
	for _, l := range all {
		total += l
	}
	out.Mean = (total / time.Duration(len(all))).Seconds()
	slices.Sort(all)
	pick := func(q float64) float64 { return all[int(q*float64(len(all)-1))].Seconds() }
	out.P50, out.P90, out.P99 = pick(0.50), pick(0.90), pick(0.99)
	return out, nil
}

// A driver is one connection of the load.
type driver struct {
	host, path             string
	worker                 int
	windowStart, windowEnd time.Time
	opening                time.Time     // when to connect first (the ramp)
	interval               time.Duration // open loop: time between this connection's requests
	first                  time.Time     // open loop: when its first request is due
}

// drive is one connection's loop: it returns the latency of each request answered inside the
// window, how many failed, and the first failure. Closed loop, a request counts if it was sent
// and answered inside the window; open loop, if it was due inside the window (its answer may
// come later: a late answer is what the measurement is for).
func (d *driver) drive() ([]time.Duration, int, error) {
	var latencies []time.Duration
	var first error
	failures := 0
	fail := func(err error) {
		failures++
		if first == nil {
			first = err
		}
	}
	var conn net.Conn
	var reader *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	time.Sleep(time.Until(d.opening))
	// Closed loop, the measurement ends with the window: a request still unanswered then is
	// abandoned (its connection was starved, and is counted so). Open loop, every request due
	// in the window is waited for, up to a limit, so that a server that stops answering can't
	// hold the measurement forever.
	deadline := d.windowEnd
	if d.interval > 0 {
		deadline = d.windowEnd.Add(30 * time.Second)
	}
	dialer := net.Dialer{Deadline: deadline}
	prefix, suffix, templated := strings.Cut(d.path, "{i}")
	var request []byte
	due := d.first
	for i := d.worker; ; i += 1 << 16 {
		if d.interval > 0 {
			if !due.Before(d.windowEnd) {
				return latencies, failures, first
			}
			time.Sleep(time.Until(due))
		} else if !time.Now().Before(d.windowEnd) {
			return latencies, failures, first
		}
		if conn == nil {
			var err error
			if conn, err = dialer.Dial("tcp", d.host); err != nil {
				if d.interval == 0 && !time.Now().Before(d.windowEnd) {
					return latencies, failures, first
				}
				fail(err)
				time.Sleep(10 * time.Millisecond)
				due = due.Add(d.interval)
				continue
			}
			_ = conn.SetDeadline(deadline)
			reader = bufio.NewReaderSize(conn, 16<<10)
		}
		request = append(request[:0], "GET "...)
		request = append(request, prefix...)
		if templated {
			request = strconv.AppendInt(request, int64(i), 10)
			request = append(request, suffix...)
		}
		request = append(request, " HTTP/1.1\r\nHost: "...)
		request = append(request, d.host...)
		request = append(request, "\r\n\r\n"...)
		start := time.Now()
		if d.interval > 0 {
			start = due // the latency the schedule's user sees, waiting included
		}
		_, err := conn.Write(request)
		status, keepAlive := 0, false
		if err == nil {
			status, keepAlive, err = readResponse(reader)
		}
		end := time.Now()
		if err != nil && d.interval == 0 && !end.Before(d.windowEnd) {
			return latencies, failures, first // abandoned at the end of the window
		}
		counted := !start.Before(d.windowStart) && (d.interval > 0 || end.Before(d.windowEnd))
		switch {
		case err != nil:
			fail(err)
		case status != http.StatusOK:
			fail(fmt.Errorf("status %d", status))
		case counted:
			latencies = append(latencies, end.Sub(start))
		}
		if err != nil || !keepAlive {
			conn.Close()
			conn = nil
		}
		due = due.Add(d.interval)
	}
}

// readResponse reads one HTTP/1.1 response and discards its body, which it finds by
// Content-Length or chunked encoding.
func readResponse(r *bufio.Reader) (status int, keepAlive bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("not an HTTP response: %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	keepAlive = line[7] == '1' // HTTP/1.1 keeps the connection unless told otherwise
	length, chunked := -1, false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch strings.ToLower(string(name)) {
		case "content-length":
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case "transfer-encoding":
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case "connection":
			keepAlive = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = discardChunks(r)
	case length >= 0:
		_, err = r.Discard(length)
	default:
		return 0, false, errors.New("a response with neither Content-Length nor chunked body")
	}
	return status, keepAlive, err
}

func discardChunks(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(sizeText), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 { // the last chunk; then trailers, up to an empty line
			for {
				line, err = r.ReadSlice('\n')
				if err != nil || len(bytes.TrimSpace(line)) == 0 {
					return err
				}
			}
		}
		if _, err := r.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}

// cpuSeconds is the CPU time (user + system) this process has used.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}
