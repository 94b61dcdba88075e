'use strict';
const {check, rssBytes, yieldToLoop, main} = require('./common');

let parked = 0, cancelled = 0;

// A cancellable hour-long sleep: its timer and its reject, kept to cancel it.
function sleepLong(handles, i) {
  return new Promise((resolve, reject) => {
    handles[i] = {timer: setTimeout(resolve, 3600e3), reject};
  });
}

async function park(handles, i) {
  ++parked;
  try {
    await sleepLong(handles, i);
  } catch (e) {
    ++cancelled;
  }
}

async function amain(n) {
  const handles = new Array(n).fill(null), tasks = new Array(n).fill(null);  // the caller's
  const before = rssBytes();
  for (let i = 0; i < n; ++i) tasks[i] = park(handles, i);
  await yieldToLoop();  // every task has started and parked on its timer
  const perTask = (rssBytes() - before) / n;
  check(parked === n, `${parked} of ${n} tasks parked`);
  for (const h of handles) {
    clearTimeout(h.timer);
    h.reject(new Error('cancelled'));
  }
  await Promise.all(tasks);
  check(cancelled === n, 'every task cancelled');
  return perTask;
}

main('W3', 'bytes/task', 'W3: memory per task while N tasks wait on a timer (resident bytes / N).',
     amain);
