'use strict';
// echo: the echo server for the echo and connect benchmarks (bench/echo/):
// net.createServer, each 'data' chunk written back, as a Node user would
// write it. Listens on 127.0.0.1, any port; prints "port N".
const net = require('net');

const server = net.createServer({ noDelay: true }, (sock) => {
  sock.on('data', (d) => sock.write(d));
  sock.on('error', () => sock.destroy());
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  process.stdout.write(`port ${server.address().port}\n`);
});
