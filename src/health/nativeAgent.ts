import { getSystemErrorName } from 'node:util';
import { AGENT_EOF, AGENT_LONG, AGENT_READ_FAILED, nativeUdp, type TcpProber } from '../util/native';
import type { LoadReading, LoadTarget } from './loadTypes';
import { MAX_AGENT_LINE, parseAgentLine } from './loadParse';
import { errorText } from './nativeProbe';
import { ProbeSlots } from './nativeSlots';

// Agent reads (docs/steering.md) through the native addon's TcpProber (native/tcp_probe.c,
// docs/native.md): connect, read to the first CR or LF, hang up with a reset, as the net.Socket
// read in ./loadFeed does, at a fraction of its CPU per read. The line comes back as bytes
// (latin1, as the Node path decodes it) and is parsed by the same parser, and every failure is
// worded as the Node path words it, so readings, logs and `status` are the same on both paths.
// The reads have a prober of their own (an epoll set of their own): the tcp checks' results
// never pass through here.

interface Pending {
  id: number;
  resolve: (r: LoadReading) => void;
  target: LoadTarget;
}

const slots = new ProbeSlots<Pending>();
/** The read, made once with its prober on first use; null: the addon predates readLine. */
let read: ((target: LoadTarget) => Promise<LoadReading>) | null | undefined;

function onResult(id: number, err: number, latencyUs: number, line?: string): void {
  const p = slots.settle(id);
  if (p) p.resolve(reading(p.target, err, latencyUs / 1000, line));
}

function reading(t: LoadTarget, err: number, latencyMs: number, line: string | undefined): LoadReading {
  const ms = Math.round(latencyMs * 100) / 100;
  const failed = (error: string): LoadReading => ({ ok: false, error, latencyMs: Math.min(ms, t.timeoutMs) });
  if (err === 0 || err === AGENT_EOF) {
    if (err === AGENT_EOF && !line) return failed('agent closed the connection without a line');
    const parsed = parseAgentLine(line ?? '');
    return parsed.ok ? { ok: true, agent: parsed.value, latencyMs: ms } : failed(parsed.error);
  }
  if (err === -1) return failed(`timeout after ${t.timeoutMs}ms`);
  if (err === AGENT_LONG) return failed(`agent line longer than ${MAX_AGENT_LINE} bytes`);
  if (err >= AGENT_READ_FAILED) return failed(`read ${codeOf(err - AGENT_READ_FAILED)}`);
  return failed(errorText(t, err));
}

function codeOf(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

/**
 * The native agent read, or undefined where the addon is not available, predates agent reads,
 * or TIERDNS_NATIVE=0 turned it off.
 */
export function nativeAgentRead(): ((target: LoadTarget) => Promise<LoadReading>) | undefined {
  const addon = nativeUdp().addon;
  if (!addon) return undefined;
  if (read === undefined) read = addon.TcpProber?.prototype.readLine ? makeRead(new addon.TcpProber(onResult)) : null;
  return read ?? undefined;
}

function makeRead(p: TcpProber): (target: LoadTarget) => Promise<LoadReading> {
  const readLine = p.readLine as NonNullable<TcpProber['readLine']>;
  return (target) => new Promise<LoadReading>((resolve) => {
    const id = slots.take();
    if (id < 0) {
      resolve({ ok: false, latencyMs: 0, error: `too many reads in flight (${ProbeSlots.capacity})` });
      return;
    }
    let started: number;
    try {
      started = readLine.call(p, id, target.ip, target.port, target.localAddress ?? '', target.timeoutMs, MAX_AGENT_LINE);
    } catch (err) {
      // (the thread shutting down: the read fails, the slot is free again)
      slots.release(id);
      resolve({ ok: false, latencyMs: 0, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (started === 0) {
      slots.hold({ id, resolve, target });
    } else {
      slots.release(id);
      resolve(reading(target, started, 0, undefined));
    }
  });
}
