// sleep0: one goroutine doing N runtime.Gosched (Go's sleep(0)).
package main

import (
	"runtime"
	"time"
)

func main() {
	n := scaled(10_000_000)
	const reps = 5
	best := 0.0
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		if dt := since(t0); r == 0 || dt < best {
			best = dt
		}
	}
	emit("sleep0", "per_sleep0", best/float64(n), "ns", n, map[string]interface{}{"best_of": reps})
}
