// pingpong: two goroutines exchanging a value through two unbuffered channels.
package main

import "time"

func main() {
	n := scaled(1_000_000)
	const reps = 5
	best := 0.0
	for r := 0; r < reps; r++ {
		ping, back := make(chan int), make(chan int)
		go func() {
			for i := 0; i < n; i++ {
				back <- (<-ping) + 1
			}
		}()
		t0 := time.Now()
		v := 0
		for i := 0; i < n; i++ {
			ping <- v
			v = <-back
		}
		if v != n {
			panic("pingpong: lost a value")
		}
		if dt := since(t0); r == 0 || dt < best {
			best = dt
		}
	}
	emit("pingpong", "per_round_trip", best/float64(n), "ns", n, map[string]interface{}{"best_of": reps})
}
