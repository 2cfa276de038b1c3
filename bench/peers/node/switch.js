'use strict';
// switch: two async functions yielding to each other with `await null`.
// Each await queues the continuation as a microtask behind the other task's,
// so the two alternate without a trip through the event loop - the closest
// thing Node has to a direct task switch (see sleep0 for a loop turn).
const { scaled, emit, now, nsSince } = require('./common');

async function yielder(k) {
  for (let i = 0; i < k; i++) await null;
}

async function main() {
  const n = scaled(10_000_000), reps = 5;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    await Promise.all([yielder(n / 2), yielder(n / 2)]);
    best = Math.min(best, nsSince(t0));
  }
  emit('switch', 'per_switch', best / n, 'ns', n, { best_of: reps });
}
main();
