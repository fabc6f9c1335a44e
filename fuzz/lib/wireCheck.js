'use strict';
// A strict reader of DNS responses, written apart from src/wire so a fuzz target can check that
// what the server sends is well-formed: every count matches, every name (compressed or not)
// ends inside the message with legal labels and backward pointers, RDATA of the types tierdns
// writes holds exactly what its type says, and nothing follows the last record (RFC 1035 §4.1).

class Malformed extends Error {}

function fail(what) {
  throw new Malformed(`malformed response: ${what}`);
}

/** Read a name at `off`; returns [end of the name in place, presentation text]. */
function readName(msg, off, limit) {
  const labels = [];
  let end = -1;
  let length = 1;
  let at = off;
  for (let hops = 0; ; hops++) {
    if (at >= limit) fail(`name at ${off} runs past its end`);
    const len = msg[at];
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= limit) fail(`pointer at ${at} cut off`);
      const target = ((len & 0x3f) << 8) | msg[at + 1];
      // RFC 1035 §4.1.4: a pointer names an earlier occurrence; forward or self pointers loop.
      if (target >= at) fail(`pointer at ${at} does not point backwards`);
      if (hops > 127) fail(`pointer chain at ${off} too long`);
      if (end < 0) end = at + 2;
      at = target;
      continue;
    }
    if (len > 63) fail(`label type 0x${len.toString(16)} at ${at}`);
    if (at + 1 + len > limit) fail(`label at ${at} runs past its end`);
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    length += len + 1;
    if (length > 255) fail(`name at ${off} longer than 255 octets`);
    at += 1 + len;
  }
  return [end, labels.join('.')];
}

/** Names in RDATA by type: [fixed bytes before, names, fixed bytes after] (RFC 1035 §3.3, RFC 6672). */
const RDATA_SHAPES = new Map([
  [2, [0, 1, 0]], // NS
  [5, [0, 1, 0]], // CNAME
  [12, [0, 1, 0]], // PTR
  [39, [0, 1, 0]], // DNAME
  [15, [2, 1, 0]], // MX
  [6, [0, 2, 20]], // SOA
]);

function checkRdata(msg, type, start, rdlen) {
  const end = start + rdlen;
  if (type === 1 && rdlen !== 4) fail(`A with ${rdlen} bytes`);
  if (type === 28 && rdlen !== 16) fail(`AAAA with ${rdlen} bytes`);
  if (type === 16) {
    // TXT: one or more character-strings filling the RDATA exactly.
    if (rdlen === 0) fail('empty TXT');
    let at = start;
    while (at < end) at += 1 + msg[at];
    if (at !== end) fail('TXT strings do not fill the RDATA');
  }
  const shape = RDATA_SHAPES.get(type);
  if (!shape) return;
  let at = start + shape[0];
  for (let i = 0; i < shape[1]; i++) [at] = readName(msg, at, end);
  if (at + shape[2] !== end) fail(`type ${type} RDATA of ${rdlen} bytes does not hold its fields exactly`);
}

/**
 * Parse a whole response; returns { id, flags, rcode, question: {start, end} | undefined,
 * counts, opt: {udpSize, version, extRcode} | undefined, records }. Throws Malformed.
 */
function parseResponse(msg) {
  if (msg.length < 12) fail(`${msg.length} bytes, shorter than a header`);
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
  let off = 12;
  let question;
  if (counts[0] > 1) fail(`QDCOUNT ${counts[0]}`);
  if (counts[0] === 1) {
    const [end] = readName(msg, off, msg.length);
    if (end + 4 > msg.length) fail('question cut off');
    question = { start: 12, end: end + 4, type: msg.readUInt16BE(end), class: msg.readUInt16BE(end + 2) };
    off = end + 4;
  }
  let opt;
  const records = [];
  const total = counts[1] + counts[2] + counts[3];
  for (let i = 0; i < total; i++) {
    const [end, name] = readName(msg, off, msg.length);
    if (end + 10 > msg.length) fail(`record ${i} cut off`);
    const type = msg.readUInt16BE(end);
    const rdlen = msg.readUInt16BE(end + 8);
    if (end + 10 + rdlen > msg.length) fail(`RDATA of record ${i} runs past the message`);
    if (type === 41) {
      // RFC 6891 §6.1.1: one OPT, owned by the root, in the additional section.
      if (opt || i < counts[1] + counts[2] || name !== '') fail('OPT misplaced or repeated');
      opt = { udpSize: msg.readUInt16BE(end + 2), extRcode: msg[end + 4], version: msg[end + 5] };
    } else {
      checkRdata(msg, type, end + 10, rdlen);
    }
    records.push({ name, type, section: i < counts[1] ? 'answer' : i < counts[1] + counts[2] ? 'authority' : 'additional' });
    off = end + 10 + rdlen;
  }
  if (off !== msg.length) fail(`${msg.length - off} bytes after the last record`);
  return { id, flags, rcode: flags & 0x0f, question, counts, opt, records };
}

module.exports = { parseResponse, Malformed };
