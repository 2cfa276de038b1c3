// Shared helpers for the Go peers. Each benchmark is one file compiled
// together with this one (see run); GOMAXPROCS=1 is set by run so Go gets
// one P, like a single-threaded event loop.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// scaled applies CIO_BENCH_SCALE (bench/run --quick) to a default N.
func scaled(n int) int {
	s, err := strconv.ParseFloat(os.Getenv("CIO_BENCH_SCALE"), 64)
	if err != nil || s <= 0 {
		return n
	}
	if m := int(float64(n) * s); m > 0 {
		return m
	}
	return 1
}

func emit(bench, metric string, value float64, unit string, n int, extra map[string]interface{}) {
	rec := map[string]interface{}{
		"bench": bench, "impl": "go", "metric": metric,
		"value": float64(int64(value*1000+0.5)) / 1000, "unit": unit, "n": n,
	}
	for k, v := range extra {
		rec[k] = v
	}
	b, _ := json.Marshal(rec)
	fmt.Println(string(b))
}

func since(t0 time.Time) float64 { return float64(time.Since(t0).Nanoseconds()) }

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize())
}

// statusBytes reads a "Key:  123 kB" field of /proc/self/status (VmPTE...).
func statusBytes(key string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key+":") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// cpuSeconds is the CPU time (user + system) the process has used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func peakRSSBytes() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) * 1024
}
