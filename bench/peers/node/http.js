// http: the HTTP benchmark's Node server (the http module), started by
// bench/http/driver.py: GET / "Hello, World!" (text/plain), GET /json
// {"message":"Hello, World!"}.
//
//   node http.js PORT
'use strict';
const http = require('http');

const hello = Buffer.from('Hello, World!');
http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': hello.length});
    res.end(hello);
  } else if (req.url === '/json') {
    const body = JSON.stringify({message: 'Hello, World!'});
    res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body)});
    res.end(body);
  } else {
    res.writeHead(404);
    res.end();
  }
}).listen(Number(process.argv[2]), '127.0.0.1');
