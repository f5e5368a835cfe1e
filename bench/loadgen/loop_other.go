//go:build !linux

package main

import "errors"

func runLoop(cfg config) ([]*stats, error) {
	return nil, errors.New("loadgen runs on Linux only (one thread around epoll_pwait2)")
}
