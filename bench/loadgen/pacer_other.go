//go:build !linux

package main

import "time"

func pacerInit() {}

// sleepUntil returns at (or after) t; off Linux this is the Go timer (coarser).
func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}
