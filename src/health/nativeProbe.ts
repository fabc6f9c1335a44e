import { getSystemErrorName } from 'node:util';
import { hostPort } from '../util/listen';
import { nativeUdp, type TcpProber } from '../util/native';
import { ProbeSlots } from './nativeSlots';
import type { ProbeResult, ProbeTarget } from './probeTypes';

// `tcp` checks through the native addon's TcpProber (native/tcp_probe.c, docs/native.md):
// the same outcome as the net.connect probe in ./probe (a completed handshake is healthy,
// the connection is then reset), at a fraction of its event-loop time per probe.

interface Pending {
  id: number;
  resolve: (r: ProbeResult) => void;
  target: ProbeTarget;
}

let prober: TcpProber | undefined;
const slots = new ProbeSlots<Pending>();

function onResult(id: number, err: number, latencyUs: number): void {
  const p = slots.settle(id);
  if (p) p.resolve(outcome(p.target, err, latencyUs / 1000));
}

/** Worded as Node's net errors are ("connect ECONNREFUSED 127.0.0.2:80"), so logs and `status` read alike on both paths. */
function outcome(t: ProbeTarget, err: number, latencyMs: number): ProbeResult {
  const ms = Math.round(latencyMs * 100) / 100;
  if (err === 0) return { ok: true, latencyMs: ms };
  if (err === -1) return { ok: false, latencyMs: Math.min(ms, t.timeoutMs), error: `timeout after ${t.timeoutMs}ms` };
  return { ok: false, latencyMs: ms, error: errorText(t, err) };
}

/** The last error text per target: a member refusing every 2 s gets one string, not one per probe. */
const lastError = new WeakMap<object, { err: number; text: string }>();

/** "connect ECONNREFUSED 127.0.0.2:80" for errno `err`, as Node words a failed connect. */
export function errorText(t: Pick<ProbeTarget, 'ip' | 'port'>, err: number): string {
  const hit = lastError.get(t);
  if (hit && hit.err === err) return hit.text;
  let code: string;
  try {
    code = getSystemErrorName(-err);
  } catch {
    code = `errno ${err}`;
  }
  const text = `connect ${code} ${hostPort(t.ip, t.port)}`;
  lastError.set(t, { err, text });
  return text;
}

/** The native tcp probe, or undefined where the addon is not available (or TIERDNS_NATIVE=0). */
export function nativeTcpProbe(): ((target: ProbeTarget) => Promise<ProbeResult>) | undefined {
  const addon = nativeUdp().addon;
  if (!addon?.TcpProber) return undefined;
  prober ??= new addon.TcpProber(onResult);
  const p = prober;
  return (target) => new Promise<ProbeResult>((resolve) => {
    const id = slots.take();
    if (id < 0) {
      resolve({ ok: false, latencyMs: 0, error: `too many probes in flight (${ProbeSlots.capacity})` });
      return;
    }
    let started: number;
    try {
      started = p.connect(id, target.ip, target.port, target.localAddress ?? '', target.timeoutMs);
    } catch (err) {
      // (bad arguments, or the thread shutting down: the probe fails, the slot is free again)
      slots.release(id);
      throw err;
    }
    if (started === 0) {
      slots.hold({ id, resolve, target });
    } else {
      slots.release(id);
      resolve(outcome(target, started, 0));
    }
  });
}
