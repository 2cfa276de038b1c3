'use strict';
// Shared helpers for the Node.js peers: JSON output in bench/run's format.
const fs = require('fs');

function scaled(n) {
  const s = parseFloat(process.env.CIO_BENCH_SCALE || '1');
  return s > 0 ? Math.max(1, Math.floor(n * s)) : n;
}

function emit(bench, metric, value, unit, n, extra) {
  const rec = { bench, impl: 'node', metric,
                value: Math.round(value * 1000) / 1000, unit, n, ...extra };
  console.log(JSON.stringify(rec));
}

function now() { return process.hrtime.bigint(); }
function nsSince(t0) { return Number(process.hrtime.bigint() - t0); }

// Resident set size now, read the same way as the C and Go benches.
function rssBytes() {
  const f = fs.readFileSync('/proc/self/statm', 'utf8').split(' ');
  return Number(f[1]) * 4096;
}

// A "Key:  123 kB" field of /proc/self/status, in bytes (VmPTE...).
function statusBytes(key) {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n')
    .find((l) => l.startsWith(key + ':'));
  return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
}

function peakRssBytes() { return process.resourceUsage().maxRSS * 1024; }

// CPU time (user + system) the process has used so far, in seconds.
function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

module.exports = { scaled, emit, now, nsSince, rssBytes, statusBytes, peakRssBytes, cpuSeconds };
