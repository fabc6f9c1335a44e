import { getSystemErrorName } from 'node:util';
import { nativeUdp, type TcpProber } from '../dns/native';
import type { ProbeResult, ProbeTarget } from './probe';

// `tcp` checks through the native addon's TcpProber (native/tcp_probe.c, docs/native.md):
// the same outcome as the net.connect probe in ./probe (a completed handshake is healthy,
// the connection is then reset), at a fraction of its event-loop time per probe.

interface Pending {
  resolve: (r: ProbeResult) => void;
  target: ProbeTarget;
}

let prober: TcpProber | undefined;
const pending = new Map<number, Pending>();
let nextId = 0;

function onResult(id: number, err: number, latencyUs: number): void {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  p.resolve(outcome(p.target, err, latencyUs / 1000));
}

/** Worded as Node's net errors are ("connect ECONNREFUSED 127.0.0.2:80"), so logs and `status` read alike on both paths. */
function outcome(t: ProbeTarget, err: number, latencyMs: number): ProbeResult {
  const ms = Math.round(latencyMs * 100) / 100;
  if (err === 0) return { ok: true, latencyMs: ms };
  if (err === -1) return { ok: false, latencyMs: Math.min(ms, t.timeoutMs), error: `timeout after ${t.timeoutMs}ms` };
  return { ok: false, latencyMs: ms, error: errorText(t, err) };
}

/** The last error text per target: a member refusing every 2 s gets one string, not one per probe. */
const lastError = new WeakMap<ProbeTarget, { err: number; text: string }>();

function errorText(t: ProbeTarget, err: number): string {
  const hit = lastError.get(t);
  if (hit && hit.err === err) return hit.text;
  let code: string;
  try {
    code = getSystemErrorName(-err);
  } catch {
    code = `errno ${err}`;
  }
  const text = `connect ${code} ${t.ip}:${t.port}`;
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
    nextId = (nextId + 1) >>> 0;
    const id = nextId;
    const started = p.connect(id, target.ip, target.port, target.localAddress ?? '', target.timeoutMs);
    if (started === 0) pending.set(id, { resolve, target });
    else resolve(outcome(target, started, 0));
  });
}
