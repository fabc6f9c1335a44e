'use strict';
// The DNS-over-TCP framer on its own: bytes in, in any chunking, messages out in order.
const test = require('node:test');
const assert = require('node:assert/strict');
const { TcpFramer } = require('../dist/dns/tcpFramer');

const frame = (body) => Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
const drain = (f) => {
  const out = [];
  for (let m = f.next(); m !== undefined; m = f.next()) out.push(Buffer.from(m).toString('hex'));
  return out;
};

const bodies = [Buffer.from('0102030405060708090a0b0c', 'hex'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from([9])];
const stream = Buffer.concat(bodies.map(frame));
const expected = bodies.map((b) => b.toString('hex'));

test('every way of cutting the stream into chunks yields the same messages', () => {
  for (const size of [1, 2, 3, 5, 13, 64, stream.length]) {
    const f = new TcpFramer();
    const got = [];
    for (let i = 0; i < stream.length; i += size) {
      f.push(stream.subarray(i, i + size));
      got.push(...drain(f));
    }
    assert.deepEqual(got, expected, `chunks of ${size}`);
    assert.equal(f.bufferedBytes, 0);
    assert.equal(f.partial, false);
  }
});

test('partial: set from the first byte of a message until its last', () => {
  const f = new TcpFramer();
  assert.equal(f.partial, false);
  const one = frame(Buffer.alloc(20, 1));
  f.push(one.subarray(0, 1));
  assert.equal(f.partial, true, 'half a length');
  f.push(one.subarray(1, 2));
  assert.equal(f.partial, true, 'a length, no body');
  f.push(one.subarray(2, 21));
  assert.equal(f.partial, true);
  assert.equal(f.next(), undefined);
  f.push(one.subarray(21));
  assert.equal(f.partial, false);
  assert.equal(f.ready, true);
  assert.equal(f.next().length, 20);
  assert.equal(f.ready, false);
});

test('an empty frame is an empty message, and complete: not partial', () => {
  const f = new TcpFramer();
  f.push(Buffer.from([0, 0, 0, 0]));
  assert.equal(f.partial, false);
  assert.deepEqual([f.next().length, f.next().length, f.next()], [0, 0, undefined]);
});

test('the largest frame (65535 bytes) is one message', () => {
  const f = new TcpFramer();
  const body = Buffer.alloc(65535, 3);
  f.push(frame(body).subarray(0, 40000));
  assert.equal(f.next(), undefined);
  f.push(frame(body).subarray(40000));
  assert.equal(f.next().length, 65535);
});

test('a small tail left after many messages does not keep the large chunk', () => {
  const f = new TcpFramer();
  const many = Buffer.concat([...Array(1000)].map(() => frame(Buffer.alloc(60, 1))));
  f.push(Buffer.concat([many, Buffer.from([0, 50, 1, 2])]));
  assert.equal(drain(f).length, 1000);
  assert.equal(f.bufferedBytes, 4);
  assert.equal(f.partial, true);
  f.push(Buffer.alloc(48, 1));
  assert.equal(f.next().length, 50);
});

test('messages are views that later pushes do not change', () => {
  const f = new TcpFramer();
  f.push(Buffer.concat([frame(Buffer.from('aaaa')), Buffer.from([0])]));
  const first = f.next();
  f.push(Buffer.concat([Buffer.from([4]), Buffer.from('bbbb')]));
  const second = f.next();
  assert.equal(first.toString(), 'aaaa');
  assert.equal(second.toString(), 'bbbb');
});
