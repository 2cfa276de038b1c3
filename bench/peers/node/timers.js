'use strict';
// timers: N async tasks each sleeping a random 0..1 s; total wall time, the
// CPU time used meanwhile, and the peak RSS.
const { scaled, emit, now, nsSince, peakRssBytes, cpuSeconds } = require('./common');

// Node keeps one timer list per distinct duration and has 1 ms resolution,
// so durations are whole milliseconds (as a Node program would write them).
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function sleeper(ms) { await sleep(ms); }

// A seeded generator so every run sleeps the same durations.
function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

async function main() {
  const n = scaled(1_000_000), rand = lcg(1);
  const cpu0 = cpuSeconds();
  const t0 = now();
  const tasks = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = sleeper(Math.floor(rand() * 1000));
  await Promise.all(tasks);
  const wall = nsSince(t0) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  emit('timers', 'wall', wall, 's', n);
  emit('timers', 'overhead_per_task', Math.max(0, wall - 1) * 1e9 / n, 'ns', n);
  emit('timers', 'cpu', cpu, 's', n);
  emit('timers', 'peak_rss', peakRssBytes() / 2 ** 20, 'MiB', n);
}
main();
