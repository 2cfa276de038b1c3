'use strict';
// pingpong: two async tasks exchanging a value through two promise-based
// queues (Node has no built-in one; this is the minimal asyncio.Queue).
const { scaled, emit, now, nsSince } = require('./common');

class Queue {
  constructor() { this.items = []; this.waiters = []; }
  put(v) {
    const w = this.waiters.shift();
    if (w) w(v); else this.items.push(v);
  }
  get() {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

async function pong(qin, qout, n) {
  for (let i = 0; i < n; i++) qout.put((await qin.get()) + 1);
}

async function main() {
  const n = scaled(1_000_000), reps = 5;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const ping = new Queue(), back = new Queue();
    const t = pong(ping, back, n);
    const t0 = now();
    let v = 0;
    for (let i = 0; i < n; i++) {
      ping.put(v);
      v = await back.get();
    }
    best = Math.min(best, nsSince(t0));
    await t;
    if (v !== n) throw new Error('pingpong: lost a value');
  }
  emit('pingpong', 'per_round_trip', best / n, 'ns', n, { best_of: reps });
}
main();
