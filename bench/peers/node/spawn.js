'use strict';
// spawn: start N trivial async tasks, then await them all. Each task awaits
// once so it really suspends and is resumed later by the runtime (an async
// function with an empty body would just run to completion inside the call).
const { scaled, emit, now, nsSince, peakRssBytes } = require('./common');

async function nop() { await null; }

async function main() {
  const n = scaled(1_000_000);
  const t0 = now();
  const tasks = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = nop();
  await Promise.all(tasks);
  const dt = nsSince(t0);
  emit('spawn', 'per_task', dt / n, 'ns', n);
  emit('spawn', 'peak_rss', peakRssBytes() / 2 ** 20, 'MiB', n);
}
main();
