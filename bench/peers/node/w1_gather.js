'use strict';
const {check, yieldToLoop, seconds, main} = require('./common');

async function yieldOnce(i) {
  await yieldToLoop();
  return i;
}

async function amain(n) {
  const start = seconds();
  const tasks = [];
  for (let i = 0; i < n; ++i) tasks.push(yieldOnce(i));
  const results = await Promise.all(tasks);
  const rate = n / (seconds() - start);
  const sum = results.reduce((a, b) => a + b, 0);
  check(sum === n * (n - 1) / 2, `the values sum to ${sum}`);
  return rate;
}

main('W1', 'tasks/s',
     'W1: spawn N tasks that each yield to the loop once and return an int; gather them all.',
     amain);
