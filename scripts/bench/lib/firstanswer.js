#!/usr/bin/env node
'use strict';
// Start a DNS server and time its first correct answer: spawns the command in its own
// session (so run/stop scripts find its children), then queries QNAME A over UDP every
// 5 ms until an answer has NOERROR, AA and ANSWERS A records.
// Prints "first_answer_s=S pid=PID attempts=N" (or "error=..." and exit 1 on timeout).
//
// usage: firstanswer.js PORT QNAME ANSWERS TIMEOUT_S PIDFILE LOGFILE -- cmd args...
const dgram = require('node:dgram');
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const [port, qname, answers, timeoutS, pidfile, logfile] = argv.slice(0, sep);
const cmd = argv.slice(sep + 1);

function query(id) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(1, 4);
  const parts = [h];
  for (const l of qname.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  return Buffer.concat(parts);
}

const sock = dgram.createSocket('udp4');
const out = fs.openSync(logfile, 'a');
const t0 = process.hrtime.bigint();
const child = spawn(cmd[0], cmd.slice(1), { detached: true, stdio: ['ignore', out, out] });
fs.writeFileSync(pidfile, `${child.pid}\n`);
let attempts = 0;
let done = false;
const finish = (line, code) => {
  if (done) return;
  done = true;
  console.log(line);
  child.unref();
  sock.close();
  clearInterval(timer);
  process.exitCode = code;
};
child.on('exit', (c, sig) => finish(`error=server exited (${c ?? sig}) before answering`, 1));
sock.on('message', (msg) => {
  if (msg.length < 12) return;
  const rcode = msg[3] & 0x0f; const aa = (msg[2] & 0x04) !== 0; const an = msg.readUInt16BE(6);
  if (rcode === 0 && aa && an === Number(answers)) {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    finish(`first_answer_s=${s.toFixed(3)} pid=${child.pid} attempts=${attempts}`, 0);
  }
});
const timer = setInterval(() => {
  if (Number(process.hrtime.bigint() - t0) / 1e9 > Number(timeoutS)) {
    finish(`error=no correct answer for ${qname} within ${timeoutS} s (pid=${child.pid})`, 1);
    return;
  }
  attempts++;
  sock.send(query(attempts & 0xffff), Number(port), '127.0.0.1');
}, 5);
