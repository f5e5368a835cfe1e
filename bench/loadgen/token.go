package main

import "time"

// token is one scheduled request: its send time, and whether it falls in the measured period.
type token struct {
	at       time.Time
	measured bool
}
