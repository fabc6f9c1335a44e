import http from 'node:http';
import net, { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError, hangUp } from './attempt';
import { MAX_AGENT_LINE, parseAgentLine, parseHaproxyCsv, parseJsonLoad, parseStubStatus, type AgentWords, type ConnectionCount, type ParseResult } from './loadParse';
import type { LoadReading, LoadTarget } from './loadTypes';
import { nativeAgentRead } from './nativeAgent';

// One read of a member's load feed (docs/steering.md), on the probe thread, next to its probe.
// Like a probe, a read never rejects and never outlives its timeout, and what a feed may send
// is bounded: a feed that hangs, floods or closes early costs one failed read and a socket.

export type { LoadReading, LoadTarget } from './loadTypes';
export { MAX_AGENT_LINE } from './loadParse';
/** Largest HTTP body read: an HAProxy CSV of a few thousand rows fits, a runaway feed does not. */
export const MAX_LOAD_BODY = 1024 * 1024;
const USER_AGENT = 'tierdns-load/1';

/**
 * Which implementation reads agent feeds: the native addon's (native/tcp_probe.c), or Node's
 * net (addon missing, or TIERDNS_NATIVE=0). Asked per read, so useNativeAddon() takes effect at once.
 */
export function agentReadImplementation(): 'native' | 'node' {
  return nativeAgentRead() ? 'native' : 'node';
}

/** Read `target` once; resolves within its timeout, never rejects. */
export function readLoad(target: LoadTarget): Promise<LoadReading> {
  if (target.kind === 'agent') {
    const native = nativeAgentRead();
    if (native) return native(target);
  }
  return readLoadWithNet(target);
}

/** readLoad through Node's net whatever the feed (the fallback of agent reads; tests and benchmarks compare both). */
export function readLoadWithNet(target: LoadTarget): Promise<LoadReading> {
  return new Promise((resolve) => {
    const read = new Read(target.timeoutMs, resolve);
    try {
      if (target.kind === 'agent') readAgent(target, read);
      else readHttp(target, read);
    } catch (err) {
      read.fail(describeError(err));
    }
  });
}

/** One read's deadline, sockets and single settlement. */
class Read {
  private readonly startedAt = performance.now();
  private readonly sockets: net.Socket[] = [];
  private readonly timer: NodeJS.Timeout;
  private settled = false;

  constructor(private readonly timeoutMs: number, private readonly resolve: (r: LoadReading) => void) {
    this.timer = setTimeout(() => this.fail(`timeout after ${timeoutMs}ms`), timeoutMs);
  }

  track(socket: net.Socket): void {
    if (this.settled) hangUp(socket);
    else this.sockets.push(socket);
  }

  parsed<T>(result: ParseResult<T>, wrap: (v: T) => { agent: AgentWords } | { count: ConnectionCount }): void {
    if (!result.ok) return this.fail(result.error);
    this.settle({ ok: true, ...wrap(result.value), latencyMs: this.elapsedMs() } as LoadReading);
  }

  fail(error: string): void {
    this.settle({ ok: false, error, latencyMs: Math.min(this.elapsedMs(), this.timeoutMs) });
  }

  private settle(r: LoadReading): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    for (const s of this.sockets) hangUp(s);
    this.resolve(r);
  }

  private elapsedMs(): number {
    return Math.round((performance.now() - this.startedAt) * 100) / 100;
  }
}

/** Connect, read one line (to the first CR or LF, or to the close), hang up. */
function readAgent(target: LoadTarget, read: Read): void {
  const socket = net.connect({ host: target.ip, port: target.port, localAddress: target.localAddress });
  read.track(socket);
  let text = '';
  const line = (): void => read.parsed(parseAgentLine(text), (agent) => ({ agent }));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    const end = chunk.search(/[\r\n]/);
    text += end >= 0 ? chunk.slice(0, end) : chunk;
    if (text.length > MAX_AGENT_LINE) return read.fail(`agent line longer than ${MAX_AGENT_LINE} bytes`);
    if (end >= 0) line();
  });
  socket.on('end', () => (text === '' ? read.fail('agent closed the connection without a line') : line()));
  socket.on('error', (err) => read.fail(describeError(err)));
}

/** GET path; a 2xx answer's body (at most MAX_LOAD_BODY bytes) parsed for the feed's kind. */
function readHttp(target: LoadTarget, read: Read): void {
  const host = isIP(target.ip) === 6 ? `[${target.ip}]` : target.ip;
  const req = http.request({
    path: target.path,
    method: 'GET',
    setHost: false,
    headers: { host: target.port === 80 ? host : `${host}:${target.port}`, 'user-agent': USER_AGENT, accept: '*/*', connection: 'close' },
    // A connection of its own per read, as the probes do (no pooled connection hiding a dead feed).
    createConnection: () => {
      const socket = net.connect({ host: target.ip, port: target.port, localAddress: target.localAddress });
      read.track(socket);
      return socket;
    },
  });
  req.on('error', (err) => read.fail(describeError(err)));
  req.on('response', (res) => {
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) return read.fail(`status ${status}`);
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_LOAD_BODY) return read.fail(`response larger than ${MAX_LOAD_BODY / 1024} KB`);
      chunks.push(chunk);
    });
    res.on('aborted', () => read.fail('connection closed before the end of the response'));
    res.on('error', (err) => read.fail(describeError(err)));
    res.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parse = target.kind === 'json' ? parseJsonLoad : target.kind === 'nginx' ? parseStubStatus : parseHaproxyCsv;
      read.parsed(parse(body), (count) => ({ count }));
    });
  });
  req.end();
}
