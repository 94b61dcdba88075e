// What every node peer of `compare` shares: its size from the command line, its result
// checked, and one JSON line on stdout.
'use strict';
const fs = require('fs');

// A wrong result fails the run: it is never reported as a time.
function check(ok, what) {
  if (!ok) {
    console.error(`wrong result: ${what}`);
    process.exit(1);
  }
}

// Resident memory, read as the C++ and Python peers read it.
function rssBytes() {
  return Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
}

// Yielding to the event loop once, as asyncio.sleep(0) does: setImmediate runs after the
// loop's I/O poll, where an awaited resolved promise would run before it (a microtask).
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

const seconds = () => performance.now() / 1e3;

// Parses `N`, runs amain(n), prints its figure.
function main(workload, unit, description, amain) {
  const arg = process.argv[2];
  if (arg === '--help' || arg === '-h') {
    console.log(`usage: node ${process.argv[1]} N\n\n${description}`);
    process.exit(0);
  }
  const n = Number(arg);
  if (process.argv.length !== 3 || !/^[0-9]+$/.test(arg || '') || n < 1 || n > 10000000) {
    console.error(`usage: node ${process.argv[1]} N   (N in 1-10000000)`);
    process.exit(2);
  }
  amain(n).then((value) => {
    console.log(JSON.stringify({peer: 'node', workload, n, value, unit}));
  }, (error) => {
    console.error(error);
    process.exit(1);
  });
}

module.exports = {check, rssBytes, yieldToLoop, seconds, main};
