package main

import (
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Percentiles of an HDR histogram, in microseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	Max   int64   `json:"max"`
}

// stats of one target.
type stats struct {
	latency, service, lag *hdrhistogram.Histogram
	statuses              map[int]int64
	scheduled, sent       int64
	errors, timeout       int64
	firstErr              string
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 120_000_000, 3) }

func newStats() *stats {
	return &stats{latency: newHist(), service: newHist(), lag: newHist(), statuses: map[int]int64{}}
}

func (s *stats) note(err error) {
	if s.firstErr == "" {
		s.firstErr = err.Error()
	}
}

func us(d time.Duration) int64 {
	if v := d.Microseconds(); v > 0 {
		return v
	}
	return 1
}

func summarize(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: h.TotalCount(), Min: h.Min(), Mean: float64(int64(h.Mean()*10)) / 10,
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99), P999: h.ValueAtQuantile(99.9), Max: h.Max(),
	}
}

func cpuMs() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}
