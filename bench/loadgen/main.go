// Command loadgen is Fenestra's open-loop HTTP load generator (bench/serving.ts builds and drives it).
//
// It sends requests at a constant rate over pools of keep-alive HTTP/1.1 connections and measures each
// latency from the request's *scheduled* send time, not from when it was actually written: when the
// server (or the pool) falls behind, the requests that should have been sent in the meantime are
// charged the wait — coordinated omission is corrected by construction, as in wrk2. A request still
// unanswered `-timeout` after its scheduled time is a timeout (counted, not in the histogram; its
// connection is reused once the late answer arrives); so is one whose deadline passed before a
// connection was free. Connection errors and non-2xx answers are counted too. With several `-url`s the schedule alternates between them in blocks of `-block`, so a
// route and its baseline see the same machine conditions (this matters on a shared machine). One JSON
// object is printed on stdout.
//
//	loadgen -url http://127.0.0.1:8080/v1/features/cc_agg/card-7 -url http://127.0.0.1:8081/noop -rate 5000 -duration 10s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
)

type listFlag []string

func (h *listFlag) String() string     { return strings.Join(*h, ", ") }
func (h *listFlag) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var (
		urls     listFlag
		headers  listFlag
		method   = flag.String("method", "GET", "HTTP method")
		bodyFile = flag.String("body-file", "", "file whose bytes are the request body")
		rate     = flag.Float64("rate", 1000, "requests per second (constant schedule)")
		duration = flag.Duration("duration", 10*time.Second, "measured period")
		warmup   = flag.Duration("warmup", 2*time.Second, "period before the measured one, same schedule, not recorded")
		block    = flag.Duration("block", 250*time.Millisecond, "with several -url: the schedule alternates between them in blocks this long")
		conns    = flag.Int("connections", 64, "keep-alive connections per target (one request in flight on each)")
		timeout  = flag.Duration("timeout", 2*time.Second, "deadline after a request's scheduled send time")
	)
	flag.Var(&urls, "url", "request URL, http only (repeatable: targets alternate in blocks)")
	flag.Var(&headers, "header", "extra request header \"Name: value\" (repeatable)")
	flag.Parse()
	if len(urls) == 0 || *rate <= 0 || *conns <= 0 || *duration <= 0 || *block <= 0 {
		fail("usage: loadgen -url URL [-url URL2 ...] [-method M] [-body-file F] [-rate R] [-duration D] [-warmup W] [-block B] [-connections N] [-timeout T] [-header 'K: V']")
	}
	var body []byte
	if *bodyFile != "" {
		var err error
		if body, err = os.ReadFile(*bodyFile); err != nil {
			fail(err.Error())
		}
	}
	targets := make([]target, len(urls))
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" {
			fail(fmt.Sprintf("-url must be an http:// URL: %q", raw))
		}
		targets[i] = target{url: raw, addr: u.Host, request: buildRequest(*method, u, headers, body)}
	}
	// One thread does the work (loop_linux.go); no idle Ps to spin.
	runtime.GOMAXPROCS(1)
	out, err := run(config{targets: targets, rate: *rate, warmup: *warmup, duration: *duration, block: *block, connections: *conns, timeout: *timeout})
	if err != nil {
		fail(err.Error())
	}
	out.Method = *method
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "loadgen:", msg)
	os.Exit(2)
}
