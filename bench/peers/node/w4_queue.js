'use strict';
const {check, seconds, main} = require('./common');

// asyncio.Queue's shape (node has none): put waits while full, get while empty, FIFO waiters.
class Queue {
  constructor(maxsize) {
    this.maxsize = maxsize;
    this.items = [];
    this.getters = [];
    this.putters = [];
  }
  async put(item) {
    while (this.items.length >= this.maxsize) await new Promise((r) => this.putters.push(r));
    this.items.push(item);
    if (this.getters.length) this.getters.shift()();
  }
  async get() {
    while (this.items.length === 0) await new Promise((r) => this.getters.push(r));
    const item = this.items.shift();
    if (this.putters.length) this.putters.shift()();
    return item;
  }
}

async function ping(out, back, n) {
  for (let i = 0; i < n; ++i) {
    await out.put(i);
    const token = await back.get();
    // The message only on failure: formatting costs more than a handoff.
    if (token !== i) check(false, `token ${i} came back as ${token}`);
  }
}

async function pong(into, out, n) {
  for (let i = 0; i < n; ++i) await out.put(await into.get());
}

async function amain(n) {
  const there = new Queue(1), back = new Queue(1);
  const start = seconds();
  await Promise.all([ping(there, back, n), pong(there, back, n)]);
  return (seconds() - start) * 1e9 / (2 * n);
}

main('W4', 'ns/handoff', 'W4: two tasks pass a token back and forth N times through two queues.',
     amain);
