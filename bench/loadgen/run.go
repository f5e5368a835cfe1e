package main

import (
	"fmt"
	"time"
)

type target struct {
	url     string
	addr    string
	request []byte
}

type config struct {
	targets     []target
	rate        float64
	warmup      time.Duration
	duration    time.Duration
	block       time.Duration
	connections int
	timeout     time.Duration
}

// Result of one target. Counts cover the requests scheduled in the measured period.
type Result struct {
	Target string `json:"target"`
	// Rate: requests per second while this target's blocks run.
	Rate float64 `json:"rate"`
	// MeasuredMs: the measured time this target had (its blocks).
	MeasuredMs  int64 `json:"measuredMs"`
	Connections int   `json:"connections"`
	// Scheduled: requests due in the measured period; Sent: of those, written to a connection.
	Scheduled int64 `json:"scheduled"`
	Sent      int64 `json:"sent"`
	// AchievedRate: Sent per second of this target's measured time.
	AchievedRate float64 `json:"achievedRate"`
	// Statuses: answers by HTTP status; OK: the 2xx ones.
	Statuses map[string]int64 `json:"statuses"`
	OK       int64            `json:"ok"`
	// Errors: connection/protocol errors; Timeouts: no answer within -timeout of the scheduled time
	// (including requests whose deadline passed while every connection was busy).
	Errors   int64 `json:"errors"`
	Timeouts int64 `json:"timeouts"`
	// LatencyUs: scheduled send → whole answer read, every answered request (CO-corrected).
	LatencyUs Percentiles `json:"latencyUs"`
	// ServiceUs: actual send → whole answer read (what a generator without CO correction reports).
	ServiceUs Percentiles `json:"serviceUs"`
	// SendLagUs: actual send − scheduled send (pacer wake-up + waiting for a free connection).
	SendLagUs Percentiles `json:"sendLagUs"`
	FirstErr  string      `json:"firstError,omitempty"`
}

// Output is what loadgen prints.
type Output struct {
	Method     string  `json:"method"`
	Rate       float64 `json:"rate"`
	WarmupMs   int64   `json:"warmupMs"`
	DurationMs int64   `json:"durationMs"`
	// BlockMs: with several targets, the schedule alternates between them in blocks of this length.
	BlockMs   int64 `json:"blockMs"`
	TimeoutMs int64 `json:"timeoutMs"`
	// CPUMs: this process's CPU time over the whole run (user + system).
	CPUMs   float64  `json:"cpuMs"`
	Results []Result `json:"results"`
}

// run drives one constant-rate schedule; the request scheduled at t goes to target
// floor((t − start) / block) mod len(targets), so several targets share the same conditions.
func run(cfg config) (*Output, error) {
	cpu0 := cpuMs()
	all, err := runLoop(cfg)
	if err != nil {
		return nil, err
	}
	interval := time.Duration(float64(time.Second) / cfg.rate)
	out := &Output{
		Rate: cfg.rate, WarmupMs: cfg.warmup.Milliseconds(), DurationMs: cfg.duration.Milliseconds(),
		BlockMs: cfg.block.Milliseconds(), TimeoutMs: cfg.timeout.Milliseconds(), CPUMs: cpuMs() - cpu0,
	}
	for i, st := range all {
		measured := time.Duration(float64(st.scheduled) * float64(interval))
		r := Result{
			Target: cfg.targets[i].url, Rate: cfg.rate, MeasuredMs: measured.Milliseconds(), Connections: cfg.connections,
			Scheduled: st.scheduled, Sent: st.sent, Statuses: map[string]int64{}, Errors: st.errors, Timeouts: st.timeout,
			LatencyUs: summarize(st.latency), ServiceUs: summarize(st.service), SendLagUs: summarize(st.lag), FirstErr: st.firstErr,
		}
		if measured > 0 {
			r.AchievedRate = float64(st.sent) / measured.Seconds()
		}
		for s, n := range st.statuses {
			r.Statuses[fmt.Sprint(s)] = n
			if s >= 200 && s < 300 {
				r.OK += n
			}
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}
