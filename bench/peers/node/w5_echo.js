'use strict';
const net = require('net');
const {once} = require('events');
const {check, seconds, main} = require('./common');

const CLIENTS = 50;
const MESSAGE = 'a line of an echo benchmark\n';

// readline() over a socket, as asyncio's StreamReader gives it.
class LineReader {
  constructor(socket) {
    this.buffer = '';
    this.waiter = null;
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      this.buffer += chunk;
      this.wake();
    });
  }
  wake() {
    const at = this.buffer.indexOf('\n');
    if (!this.waiter || at < 0) return;
    const line = this.buffer.slice(0, at + 1), waiter = this.waiter;
    this.buffer = this.buffer.slice(at + 1);
    this.waiter = null;
    waiter(line);
  }
  readline() {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.wake();
    });
  }
}

function echoSession(socket) {
  let pending = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {  // each whole line back as it arrives
    pending += chunk;
    const end = pending.lastIndexOf('\n') + 1;
    if (end > 0) {
      socket.write(pending.slice(0, end));
      pending = pending.slice(end);
    }
  });
  socket.on('end', () => socket.end());
}

async function echoClient(port, trips) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const reader = new LineReader(socket);
  let echoed = 0;
  for (let i = 0; i < trips; ++i) {
    socket.write(MESSAGE);
    const line = await reader.readline();
    check(line === MESSAGE, 'an echoed line differs from the one sent');
    echoed += line.length;
  }
  socket.end();
  await once(socket, 'close');
  return echoed;
}

async function amain(trips) {
  const server = net.createServer(echoSession);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const start = seconds();
  const clients = [];
  for (let c = 0; c < CLIENTS; ++c) clients.push(echoClient(server.address().port, trips));
  const echoed = (await Promise.all(clients)).reduce((a, b) => a + b, 0);
  const us = (seconds() - start) * 1e6 / (CLIENTS * trips);
  check(echoed === CLIENTS * trips * MESSAGE.length, `${echoed} bytes echoed`);
  server.close();
  return us;
}

main('W5', 'us/round trip',
     'W5: 50 clients x N echo round trips over loopback, server on the same loop.', amain);
