// switch: two goroutines yielding to each other with runtime.Gosched.
package main

import (
	"runtime"
	"sync"
	"time"
)

func main() {
	n := scaled(10_000_000)
	const reps = 5
	best := 0.0
	for r := 0; r < reps; r++ {
		var wg sync.WaitGroup
		wg.Add(2)
		y := func() {
			for i := 0; i < n/2; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}
		t0 := time.Now()
		go y()
		go y()
		wg.Wait()
		if dt := since(t0); r == 0 || dt < best {
			best = dt
		}
	}
	emit("switch", "per_switch", best/float64(n), "ns", n, map[string]interface{}{"best_of": reps})
}
