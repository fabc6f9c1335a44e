import { getSystemErrorName } from 'node:util';
import { hostPort } from '../util/listen';
import { nativeUdp, type TcpProber } from '../util/native';
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

/**
 * Probes in flight, by slot: a probe's id is its slot, plus how often the slot was used above
 * SLOT_BITS, so a stray result cannot settle a later probe in the same slot (and an id stays a
 * small integer). Not a Map keyed by id: set/delete pairs at probing rates kept each probe's
 * promise and closures alive through young-generation collections into the old generation of
 * the probe thread, whose mark-compacts put V8's helper threads on the answering core
 * (docs/bench-history.md).
 */
const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** Uses per slot wrap here: 2^10 × 2^20 keeps ids below 2^30. */
const USE_MASK = (1 << 10) - 1;
const slots: Array<Pending | undefined> = [];
const uses: number[] = [];
const freeSlots: number[] = [];

function onResult(id: number, err: number, latencyUs: number): void {
  const slot = id & SLOT_MASK;
  const p = slots[slot];
  if (!p || p.id !== id) return;
  slots[slot] = undefined;
  freeSlots.push(slot);
  p.resolve(outcome(p.target, err, latencyUs / 1000));
}

/** The id of a free slot for the next probe (its slot is `id & SLOT_MASK`); -1 when every slot is taken. */
function take(): number {
  const slot = freeSlots.length > 0 ? (freeSlots.pop() as number) : slots.length;
  if (slot > SLOT_MASK) return -1;
  const use = ((uses[slot] ?? 0) + 1) & USE_MASK;
  uses[slot] = use;
  return use * (SLOT_MASK + 1) + slot;
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
    const id = take();
    if (id < 0) {
      resolve({ ok: false, latencyMs: 0, error: `too many probes in flight (${SLOT_MASK + 1})` });
      return;
    }
    let started: number;
    try {
      started = p.connect(id, target.ip, target.port, target.localAddress ?? '', target.timeoutMs);
    } catch (err) {
      // (bad arguments, or the thread shutting down: the probe fails, the slot is free again)
      freeSlots.push(id & SLOT_MASK);
      throw err;
    }
    if (started === 0) {
      slots[id & SLOT_MASK] = { id, resolve, target };
    } else {
      freeSlots.push(id & SLOT_MASK);
      resolve(outcome(target, started, 0));
    }
  });
}
