// http: the HTTP benchmark's Go server (net/http), started by
// bench/http/driver.py: GET / "Hello, World!" (text/plain), GET /json
// {"message":"Hello, World!"}. GOMAXPROCS=1 (set by run): one P.
//
//	http PORT
package main

import (
	"encoding/json"
	"net/http"
	"os"
)

var _ = scaled // common.go's helpers are not used here

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Hello, World!"))
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"message": "Hello, World!"})
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Args[1], mux); err != nil {
		panic(err)
	}
}
