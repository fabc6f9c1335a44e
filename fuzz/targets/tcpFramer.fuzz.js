'use strict';
// Fuzz target: a TCP byte stream cut into chunks of any sizes, through the DNS-over-TCP framer
// (src/dns/tcpFramer.ts, RFC 1035 §4.2.2). The first byte seeds the chunk sizes, the rest is
// the stream. Properties: the messages come out in order and equal to those a plain reading of
// the whole stream gives, however it was cut; a message taken stays as it was after later pushes;
// bufferedBytes is exactly what was pushed and not taken; partial and ready agree with what is
// held; every complete message is answered (over TCP) without a throw in the answer path.

const { TcpFramer } = require('../../dist/dns/tcpFramer');
const { fuzzHandler } = require('../lib/fixture');

const { handler, lastError } = fuzzHandler();
const out = Buffer.alloc(65535);

/** The messages of the whole stream read in one go, and the bytes left after the last one. */
function reference(stream) {
  const messages = [];
  let off = 0;
  while (off + 2 <= stream.length && off + 2 + stream.readUInt16BE(off) <= stream.length) {
    const len = stream.readUInt16BE(off);
    messages.push(stream.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return { messages, rest: stream.length - off };
}

function fail(what, data) {
  throw new Error(`${what} (input ${data.toString('hex').slice(0, 400)})`);
}

function fuzz(data) {
  if (data.length === 0) return;
  const stream = data.subarray(1);
  const want = reference(stream);
  const framer = new TcpFramer();
  const got = [];
  // Chunk sizes from a small generator seeded by the first byte: 0-byte to 600-byte chunks.
  let state = data[0] * 2654435761 >>> 0;
  let pushed = 0;
  let taken = 0;
  while (pushed < stream.length) {
    state = (state * 1103515245 + 12345) >>> 0;
    const size = Math.min(stream.length - pushed, (state >>> 16) % 8 === 0 ? (state >>> 8) % 600 : (state >>> 16) % 7);
    // Copies, as a socket hands out fresh buffers: the framer must not rely on the caller's.
    framer.push(Buffer.from(stream.subarray(pushed, pushed + size)));
    pushed += size;
    for (let m = framer.next(); m !== undefined; m = framer.next()) {
      got.push({ copy: Buffer.from(m), view: m });
      taken += 2 + m.length;
      const failures = handler.stats.failures;
      handler.answer(m, m.length, 'tcp', out, 0);
      if (handler.stats.failures !== failures) fail(`the answer path threw: ${lastError()}`, data);
    }
    if (framer.bufferedBytes !== pushed - taken) fail(`bufferedBytes ${framer.bufferedBytes}, expected ${pushed - taken}`, data);
    if (framer.ready) fail('ready after every message was taken', data);
    if (framer.partial !== (pushed - taken > 0)) fail(`partial is ${framer.partial} with ${pushed - taken} bytes held`, data);
  }
  if (got.length !== want.messages.length) fail(`${got.length} messages, expected ${want.messages.length}`, data);
  got.forEach((m, i) => {
    if (!m.copy.equals(want.messages[i])) fail(`message ${i} differs`, data);
    if (!m.view.equals(m.copy)) fail(`message ${i} changed after later pushes`, data);
  });
  if (pushed - taken !== want.rest) fail(`${pushed - taken} bytes left, expected ${want.rest}`, data);
}

module.exports = { fuzz };
