'use strict';
// park: N async tasks suspended at once on one promise; resident bytes each.
const { scaled, emit, rssBytes, statusBytes } = require('./common');

let parked = 0;
async function waiter(gate) { parked++; await gate; }

async function main() {
  const n = scaled(1_000_000);
  let open;
  const gate = new Promise((resolve) => { open = resolve; });
  const tasks = new Array(n);
  const before = rssBytes(), pteBefore = statusBytes('VmPTE');
  for (let i = 0; i < n; i++) tasks[i] = waiter(gate);
  if (parked !== n) throw new Error('park: not all tasks parked');
  const during = rssBytes(), pteDuring = statusBytes('VmPTE');
  open();
  await Promise.all(tasks);
  emit('park', 'per_parked_task', (during - before) / n, 'B', n);
  emit('park', 'pagetables_per_parked_task', (pteDuring - pteBefore) / n, 'B', n);
}
main();
