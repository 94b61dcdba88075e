'use strict';
const {check, seconds, main} = require('./common');

const sleep = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));

async function amain(n) {
  const start = seconds();
  const tasks = [];
  for (let i = 0; i < n; ++i) tasks.push(sleep(100, 1));
  const woke = await Promise.all(tasks);
  const overheadMs = (seconds() - start - 0.1) * 1e3;
  const sum = woke.reduce((a, b) => a + b, 0);
  check(sum === n, `${sum} of ${n} sleepers woke`);
  return overheadMs;
}

main('W2', 'ms over 100 ms',
     'W2: N tasks each sleeping 100 ms at once; the figure is the time beyond the 100 ms.', amain);
