// spawn: start N trivial goroutines, then wait for them all.
package main

import (
	"sync"
	"time"
)

func main() {
	n := scaled(1_000_000)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go wg.Done()
	}
	wg.Wait()
	dt := since(t0)
	emit("spawn", "per_task", dt/float64(n), "ns", n, nil)
	emit("spawn", "peak_rss", peakRSSBytes()/(1<<20), "MiB", n, nil)
}
