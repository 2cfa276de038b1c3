// park: N goroutines blocked at once on one channel; resident bytes each.
package main

import "sync"

func main() {
	n := scaled(1_000_000)
	gate := make(chan struct{})
	var parked, done sync.WaitGroup
	parked.Add(n)
	done.Add(n)
	before, pteBefore := rssBytes(), statusBytes("VmPTE")
	for i := 0; i < n; i++ {
		go func() {
			parked.Done()
			<-gate
			done.Done()
		}()
	}
	parked.Wait()
	during, pteDuring := rssBytes(), statusBytes("VmPTE")
	close(gate)
	done.Wait()
	emit("park", "per_parked_task", (during-before)/float64(n), "B", n, nil)
	emit("park", "pagetables_per_parked_task", (pteDuring-pteBefore)/float64(n), "B", n, nil)
}
