// Go peer for bench/db on MariaDB: database/sql with go-sql-driver/mysql
// (Debian golang-github-go-sql-driver-mysql-dev), point lookups as in
// bench/db/cio_db.c: point_1 (pool of 1) and point_64 (64 goroutines, pool
// of 64). The driver prepares ? statements server-side when given
// arguments (interpolateParams off). GOMAXPROCS=1 (set by run).
package main

import (
	"database/sql"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func dsn(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pw, _ := p.User.Password()
	return fmt.Sprintf("%s:%s@tcp(%s)%s", p.User.Username(), pw, p.Host, p.Path)
}

func mode(d, name string, tasks int, secs float64) {
	db, err := sql.Open("mysql", d)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	db.SetMaxOpenConns(tasks)
	db.SetMaxIdleConns(tasks)
	stmt, err := db.Prepare("SELECT abalance FROM pgbench_accounts WHERE aid = ?")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for pass := 0; pass < 2; pass++ {
		dur := 300 * time.Millisecond
		if pass == 1 {
			dur = time.Duration(secs * float64(time.Second))
		}
		c0, w0 := cpu(), time.Now()
		until := w0.Add(dur)
		var wg sync.WaitGroup
		counts := make([]int, tasks)
		for i := 0; i < tasks; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(i + 1)))
				for time.Now().Before(until) {
					for k := 0; k < 16; k++ {
						var v int
						if err := stmt.QueryRow(1 + rng.Intn(rows)).Scan(&v); err != nil {
							fmt.Fprintln(os.Stderr, err)
							os.Exit(1)
						}
						counts[i]++
					}
				}
			}(i)
		}
		wg.Wait()
		if pass == 1 {
			total := 0
			for _, c := range counts {
				total += c
			}
			emit("go-mysql", "mysql", name, total, time.Since(w0).Seconds(), cpu()-c0)
		}
	}
}

func main() {
	secs, _ := strconv.ParseFloat(os.Args[2], 64)
	d := dsn(os.Args[1])
	mode(d, "point_1", 1, secs)
	mode(d, "point_64", 64, secs)
}
