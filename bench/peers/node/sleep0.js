'use strict';
// sleep0: one task doing N yields. asyncio.sleep(0) costs one turn of the
// event loop (it polls for I/O), so the comparable Node yield is setImmediate
// (the check phase, after the poll phase): that is `per_sleep0`. The cheaper
// microtask yield (`await null`, no loop turn) is reported as `per_microtask`.
const { scaled, emit, now, nsSince } = require('./common');

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function main() {
  const reps = 3;
  let n = scaled(1_000_000), best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    for (let i = 0; i < n; i++) await tick();
    best = Math.min(best, nsSince(t0));
  }
  emit('sleep0', 'per_sleep0', best / n, 'ns', n, { best_of: reps, yield: 'setImmediate' });
  n = scaled(10_000_000);
  best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    for (let i = 0; i < n; i++) await null;
    best = Math.min(best, nsSince(t0));
  }
  emit('sleep0', 'per_microtask', best / n, 'ns', n, { best_of: reps, yield: 'await null' });
}
main();
