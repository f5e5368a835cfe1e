//go:build linux

package main

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// The Go runtime's timers wake up to ~1 ms late on Linux (the netpoller waits in whole
// milliseconds), which would be charged to every latency measured from its scheduled time. The
// pacer therefore runs on a thread of its own, with a 1 ns timer slack, and sleeps in
// clock_nanosleep: wake-ups are tens of microseconds late at worst on an idle core.

const prSetTimerslack = 29

func pacerInit() {
	runtime.LockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
}

// sleepUntil returns at (or just after) t.
func sleepUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		// CLOCK_MONOTONIC, relative; EINTR just loops.
		_, _, _ = syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, 1, 0, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	}
}
