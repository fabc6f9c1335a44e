'use strict';
// Fuzz target: any bytes as a DNS query, through the decoder and the whole answer path, over
// UDP and TCP. Properties (docs/dns.md): decoding never throws and the answer path never
// turns a throw into SERVFAIL; a dropped query (short, QR=1) gets no answer; every answer is a
// well-formed message (fuzz/lib/wireCheck.js) with the query's ID and opcode, QR=1, the
// question echoed byte for byte when it could be read, an OPT iff the query had a valid one,
// and a UDP answer within the size the query allows.

const { Query, parseQuery } = require('../../dist/wire/query');
const { EDNS_MAX_UDP } = require('../../dist/wire/constants');
const { parseResponse } = require('../lib/wireCheck');
const { fuzzHandler } = require('../lib/fixture');

const { handler, lastError } = fuzzHandler();
const query = new Query();
const outs = { udp: Buffer.alloc(EDNS_MAX_UDP), tcp: Buffer.alloc(65535) };

function check(cond, what, data) {
  if (!cond) throw new Error(`${what} (query ${data.toString('hex')})`);
}

function fuzz(data) {
  parseQuery(data, query, data.length);
  // Copies: the handler's own decode of the same bytes must agree with this one.
  const { problem, opcode, questionEnd, hasOpt } = query;
  const udpLimit = query.udpLimit();
  for (const transport of ['udp', 'tcp']) {
    const out = outs[transport];
    const failures = handler.stats.failures;
    const n = handler.answer(data, data.length, transport, out, 0);
    check(handler.stats.failures === failures, `the answer path threw: ${lastError()}`, data);
    if (problem === 'drop') {
      check(n === 0, `a dropped query got ${n} bytes over ${transport}`, data);
      continue;
    }
    if (n === 0) continue;
    const resp = parseResponse(out.subarray(0, n));
    check(resp.id === data.readUInt16BE(0), 'ID not echoed', data);
    check((resp.flags & 0x8000) !== 0, 'QR not set', data);
    check(((resp.flags >> 11) & 0x0f) === opcode, 'opcode not echoed', data);
    if (questionEnd > 12) {
      check(resp.question !== undefined && out.subarray(12, resp.question.end).equals(data.subarray(12, questionEnd)), 'question not echoed byte for byte', data);
    }
    check((resp.opt !== undefined) === hasOpt, `OPT ${resp.opt ? 'added' : 'missing'} over ${transport}`, data);
    if (transport === 'udp') check(n <= udpLimit, `UDP answer of ${n} bytes over the limit ${udpLimit}`, data);
  }
}

module.exports = { fuzz };
