// httpclient: many small keep-alive GETs with Go's net/http client against
// the nginx of bench/httpclient/with-nginx ($CIO_BENCH_URL), from 1 and 64
// goroutines; requests/s and the process's CPU time per request. One
// http.Client (its Transport pools connections: up to 64 idle per host).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

func cpuSeconds() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)/1e6
}

func round(c *http.Client, url string, conc, n int) (float64, float64, error) {
	t0, c0 := time.Now(), cpuSeconds()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for i := 0; i < conc; i++ {
		k := n / conc
		if i < n%conc {
			k++
		}
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for j := 0; j < k; j++ {
				resp, err := c.Get(url)
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && (resp.StatusCode != 200 || len(b) != 13) {
						err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, len(b))
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
			}
		}(k)
	}
	wg.Wait()
	return time.Since(t0).Seconds(), cpuSeconds() - c0, failed
}

func main() {
	url := os.Getenv("CIO_BENCH_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "httpclient: no CIO_BENCH_URL (run it under bench/httpclient/with-nginx)")
		os.Exit(2)
	}
	n, reps := scaled(20000), 3
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	c := &http.Client{Transport: tr}
	for _, conc := range []int{1, 64} {
		total := n
		if conc == 64 {
			total = 4 * n
		}
		if _, _, err := round(c, url, conc, total/10+conc); err != nil {
			fmt.Fprintln(os.Stderr, "httpclient:", err)
			os.Exit(1)
		}
		bestRps, bestCPU := 0.0, 1e9
		for i := 0; i < reps; i++ {
			wall, cpu, err := round(c, url, conc, total)
			if err != nil {
				fmt.Fprintln(os.Stderr, "httpclient:", err)
				os.Exit(1)
			}
			if float64(total)/wall > bestRps {
				bestRps = float64(total) / wall
			}
			if cpu/float64(total) < bestCPU {
				bestCPU = cpu / float64(total)
			}
		}
		emit("httpclient", fmt.Sprintf("cpu_us_per_req_c%d", conc), bestCPU*1e6, "us", total,
			map[string]interface{}{"best_of": reps})
		emit("httpclient", fmt.Sprintf("req_per_s_c%d", conc), bestRps, "req/s", total,
			map[string]interface{}{"best_of": reps, "better": "higher"})
	}
}
