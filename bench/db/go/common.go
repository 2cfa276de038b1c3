package main

import (
	"fmt"
	"syscall"
)

const rows = 100000

// cpu is the process's user + system time in seconds.
func cpu() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)/1e6
}

func emit(impl, db, mode string, n int, wall, cpu float64) {
	fmt.Printf("{\"bench\": \"db\", \"impl\": \"%s\", \"db\": \"%s\", \"metric\": \"qps_%s\", \"value\": %.0f, \"unit\": \"q/s\", \"n\": %d}\n",
		impl, db, mode, float64(n)/wall, n)
	fmt.Printf("{\"bench\": \"db\", \"impl\": \"%s\", \"db\": \"%s\", \"metric\": \"cpu_us_%s\", \"value\": %.2f, \"unit\": \"us\", \"n\": %d}\n",
		impl, db, mode, cpu*1e6/float64(n), n)
}
