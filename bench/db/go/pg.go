// Go peer for bench/db on PostgreSQL: pgx v4's pool (Debian
// golang-github-jackc-pgx-v4-dev), point lookups as in bench/db/cio_db.c.
// Modes point_1 (one goroutine, pool of 1), point_64 (64 goroutines, pool
// of 64) and batch_64 (one connection sending 64 lookups per batch,
// pgx's pipelining). GOMAXPROCS=1 (set by run).
package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v4"
	"github.com/jackc/pgx/v4/pgxpool"
)

const query = "SELECT abalance FROM pgbench_accounts WHERE aid = $1"

func lookups(pool *pgxpool.Pool, until time.Time, seed int64) int {
	rng := rand.New(rand.NewSource(seed))
	n := 0
	ctx := context.Background()
	for time.Now().Before(until) {
		for k := 0; k < 16; k++ {
			var v int
			if err := pool.QueryRow(ctx, query, 1+rng.Intn(rows)).Scan(&v); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			n++
		}
	}
	return n
}

func mode(url, name string, tasks int, secs float64) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg.MinConns, cfg.MaxConns = int32(tasks), int32(tasks)
	pool, err := pgxpool.ConnectConfig(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer pool.Close()
	for pass := 0; pass < 2; pass++ {
		d := 300 * time.Millisecond
		if pass == 1 {
			d = time.Duration(secs * float64(time.Second))
		}
		c0, w0 := cpu(), time.Now()
		until := w0.Add(d)
		var wg sync.WaitGroup
		counts := make([]int, tasks)
		for i := 0; i < tasks; i++ {
			wg.Add(1)
			go func(i int) { defer wg.Done(); counts[i] = lookups(pool, until, int64(i+1)) }(i)
		}
		wg.Wait()
		if pass == 1 {
			total := 0
			for _, c := range counts {
				total += c
			}
			emit("pgx", "postgresql", name, total, time.Since(w0).Seconds(), cpu()-c0)
		}
	}
}

func pipelined(url string, secs float64) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close(ctx)
	rng := rand.New(rand.NewSource(7))
	run := func(until time.Time) int {
		n := 0
		for time.Now().Before(until) {
			b := &pgx.Batch{}
			for k := 0; k < 64; k++ {
				b.Queue(query, 1+rng.Intn(rows))
			}
			br := conn.SendBatch(ctx, b)
			for k := 0; k < 64; k++ {
				var v int
				if err := br.QueryRow().Scan(&v); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
			br.Close()
			n += 64
		}
		return n
	}
	run(time.Now().Add(300 * time.Millisecond))
	c0, w0 := cpu(), time.Now()
	n := run(w0.Add(time.Duration(secs * float64(time.Second))))
	emit("pgx", "postgresql", "batch_64", n, time.Since(w0).Seconds(), cpu()-c0)
}

func main() {
	secs, _ := strconv.ParseFloat(os.Args[2], 64)
	mode(os.Args[1], "point_1", 1, secs)
	mode(os.Args[1], "point_64", 64, secs)
	pipelined(os.Args[1], secs)
}
