// timers: N goroutines each sleeping a random 0..1 s; total wall time, the
// CPU time used meanwhile, and the peak RSS.
package main

import (
	"math/rand"
	"sync"
	"time"
)

func main() {
	n := scaled(1_000_000)
	rng := rand.New(rand.NewSource(1))
	var wg sync.WaitGroup
	wg.Add(n)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		d := time.Duration(rng.Float64() * float64(time.Second))
		go func() {
			time.Sleep(d)
			wg.Done()
		}()
	}
	wg.Wait()
	wall := since(t0) / 1e9
	cpu := cpuSeconds() - cpu0
	over := wall - 1
	if over < 0 {
		over = 0
	}
	emit("timers", "wall", wall, "s", n, nil)
	emit("timers", "overhead_per_task", over*1e9/float64(n), "ns", n, nil)
	emit("timers", "cpu", cpu, "s", n, nil)
	emit("timers", "peak_rss", peakRSSBytes()/(1<<20), "MiB", n, nil)
}
