'use strict';
// For test files that drive Redis through failovers: once every test has ended, a process
// still alive after `graceMs` has leaked something (a client reconnecting for ever, a timer).
// Name what is still open and fail, rather than hang the whole suite.
const { after } = require('node:test');

function failIfStillAlive(graceMs = 15_000) {
  after(() => {
    const timer = setTimeout(() => {
      const open = process._getActiveHandles().map((h) => {
        const where = h.remotePort ? ` ${h.remoteAddress}:${h.remotePort}` : '';
        return `${h.constructor?.name ?? typeof h}${where}`;
      });
      process.stderr.write(`still alive ${graceMs} ms after the last test; open handles: ${open.join(', ') || 'none (timers only)'}\n`);
      process.exit(1);
    }, graceMs);
    timer.unref();
  });
}

module.exports = { failIfStillAlive };
