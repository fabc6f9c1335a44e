import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { describeError, hangUp, type Attempt } from './attempt';
import type { ProbeTarget } from './probeTypes';

// HTTP, HTTPS and WebSocket probes (docs/health.md) on Node's own HTTP client: its parser
// turns a malformed answer into an error, which is a failed probe. One fresh connection per
// probe, closed when it settles.

const USER_AGENT = 'tierdns-health/1';
/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Frames the server may send before its close frame are skipped, up to this much. */
const MAX_WS_BUFFER = 64 * 1024;
/** How long, after the close frames crossed, the prober waits for the server to close TCP. */
const CLOSE_GRACE_MS = 100;

/** What a server must answer in Sec-WebSocket-Accept for `key` (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** The Host header: the configured one, else the member address (bracketed IPv6), with a non-default port. */
function hostHeader(target: ProbeTarget, defaultPort: number): string {
  if (target.host) return target.host;
  const addr = isIP(target.ip) === 6 ? `[${target.ip}]` : target.ip;
  return target.port === defaultPort ? addr : `${addr}:${target.port}`;
}

function request(target: ProbeTarget, headers: Record<string, string>): http.ClientRequest {
  const secure = target.kind === 'https';
  const socket = { host: target.ip, port: target.port, localAddress: target.localAddress };
  // §5: https does not require a valid certificate. SNI only for names (RFC 6066 §3 forbids addresses).
  const name = target.host?.replace(/:\d+$/, '');
  const servername = name && isIP(name) === 0 ? name : undefined;
  return http.request({
    path: target.path,
    method: 'GET',
    setHost: false,
    headers: { host: hostHeader(target, secure ? 443 : 80), 'user-agent': USER_AGENT, ...headers },
    // Our own connection, no agent: a pooled connection would hide a dead listener, and a
    // throwaway Agent per probe is measurable at thousands of probes a second.
    createConnection: () => (secure ? tls.connect({ ...socket, servername, rejectUnauthorized: false }) : net.connect(socket)),
  });
}

let randomPool = Buffer.alloc(0);
let randomAt = 0;

/** Random bytes for keys and masks from a pooled buffer (one getrandom per 256 probes, not two per probe). */
function randomChunk(n: number): Buffer {
  if (randomAt + n > randomPool.length) {
    randomPool = randomBytes(4096);
    randomAt = 0;
  }
  randomAt += n;
  return randomPool.subarray(randomAt - n, randomAt);
}

/** A request whose connection is reset, not closed, when the probe settles (see hangUp). */
function trackedRequest(target: ProbeTarget, attempt: Attempt, headers: Record<string, string>): http.ClientRequest {
  const req = attempt.track(request(target, headers));
  req.on('socket', (socket) => attempt.track({ destroy: () => hangUp(socket) }));
  return req;
}

/** Healthy when the status of GET path is in [expectMin, expectMax]; the body is not read. */
export function httpProbe(target: ProbeTarget, attempt: Attempt): void {
  const req = trackedRequest(target, attempt, { accept: '*/*', connection: 'close' });
  req.on('error', (err) => attempt.fail(describeError(err)));
  req.on('response', (res) => {
    const status = res.statusCode ?? 0;
    if (status >= target.expectMin && status <= target.expectMax) attempt.ok();
    else attempt.fail(`status ${status} not in ${target.expectMin}-${target.expectMax}`);
  });
  req.end();
}

/**
 * Healthy only on 101 with the right Sec-WebSocket-Accept (RFC 6455 §4.1); then the probe sends
 * a masked close frame and waits, within the timeout, for the server's close or end, so the
 * balancer sees a clean close rather than a reset.
 */
export function wsProbe(target: ProbeTarget, attempt: Attempt): void {
  const key = randomChunk(16).toString('base64');
  const req = trackedRequest(target, attempt, {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': key,
  });
  req.on('error', (err) => attempt.fail(describeError(err)));
  req.on('response', (res) => attempt.fail(`status ${res.statusCode ?? 0}, expected 101`));
  req.on('upgrade', (res, socket: Duplex, head: Buffer) => {
    attempt.track(socket);
    socket.on('error', () => attempt.settle(attempt.decided ?? { ok: false, latencyMs: attempt.elapsedMs(), error: 'socket error' }));
    if (String(res.headers.upgrade).toLowerCase() !== 'websocket') return attempt.fail('101 without Upgrade: websocket');
    if (res.headers['sec-websocket-accept'] !== websocketAccept(key)) return attempt.fail('wrong Sec-WebSocket-Accept');
    attempt.decided = { ok: true, latencyMs: attempt.elapsedMs() };
    const finish = () => attempt.settle(attempt.decided as { ok: true; latencyMs: number });
    let buffered = head;
    let closing = false;
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      if (closing || !(hasCloseFrame(buffered) || buffered.length > MAX_WS_BUFFER)) return;
      closing = true;
      buffered = Buffer.alloc(0);
      // RFC 6455 §7.1.1: the server closes TCP first; give it a moment, so it, not the prober, keeps the TIME_WAIT.
      const grace = setTimeout(() => {
        socket.end();
        finish();
      }, CLOSE_GRACE_MS);
      attempt.track({ destroy: () => clearTimeout(grace) });
    };
    socket.on('data', onData);
    socket.on('end', finish);
    socket.on('close', finish);
    socket.write(closeFrame());
    if (head.length) onData(Buffer.alloc(0));
  });
  req.end();
}

/** A client close frame with status 1000 (normal closure); client frames are masked (RFC 6455 §5.3). */
function closeFrame(): Buffer {
  const mask = randomChunk(4);
  const payload = Buffer.from([0x03, 0xe8]);
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload]);
}

/** Whether the server frames in `buf` include a close frame (opcode 0x8), skipping data frames. */
export function hasCloseFrame(buf: Buffer): boolean {
  let at = 0;
  while (buf.length - at >= 2) {
    const opcode = (buf[at] as number) & 0x0f;
    let len = (buf[at + 1] as number) & 0x7f;
    let header = 2;
    if (len === 126) {
      if (buf.length - at < 4) return false;
      len = buf.readUInt16BE(at + 2);
      header = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) return false;
      len = Number(buf.readBigUInt64BE(at + 2));
      header = 10;
    }
    if ((buf[at + 1] as number) & 0x80) header += 4;
    if (opcode === 0x8) return true;
    at += header + len;
  }
  return false;
}
