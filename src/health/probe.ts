import net from 'node:net';
import { Attempt, describeError, hangUp } from './attempt';
import type * as HttpProbes from './httpProbe';
import { nativeTcpProbe } from './nativeProbe';
import type { ProbeResult, ProbeTarget } from './probeTypes';

// One health check of one member (docs/health.md). A probe never rejects and never outlives
// its timeout: every socket it opened is destroyed when it settles, whatever happened.

export type { ProbeResult, ProbeTarget } from './probeTypes';

let nativeTcp: ReturnType<typeof nativeTcpProbe> | null = null;

let httpProbesModule: typeof HttpProbes | undefined;
/** Loaded on first use: node:http and node:tls lengthen a start that may never need them. */
function httpProbes(): typeof HttpProbes {
  httpProbesModule ??= require('./httpProbe') as typeof HttpProbes;
  return httpProbesModule;
}

/** Which implementation runs `tcp` checks: the native addon's, or Node's net (addon missing, or TIERDNS_NATIVE=0). */
export function tcpProbeImplementation(): 'native' | 'node' {
  return nativeTcpProbe() ? 'native' : 'node';
}

/** Run one probe of `target`; resolves with the outcome, never rejects. */
export function probe(target: ProbeTarget): Promise<ProbeResult> {
  if (target.kind === 'none') return Promise.resolve({ ok: true, latencyMs: 0 });
  if (target.kind === 'tcp') {
    // Chosen once per process: a loop probing thousands of members asks for every probe.
    if (nativeTcp === null) nativeTcp = nativeTcpProbe();
    if (nativeTcp) return nativeTcp(target);
  }
  return new Promise((resolve) => {
    const attempt = new Attempt(target.timeoutMs, resolve);
    try {
      if (target.kind === 'tcp') tcpProbe(target, attempt);
      else if (target.kind === 'ws') httpProbes().wsProbe(target, attempt);
      else httpProbes().httpProbe(target, attempt);
    } catch (err) {
      // Synchronous throws (a bad localAddress, say) are failures of this probe, not of the loop.
      attempt.fail(describeError(err));
    }
  });
}

/** Healthy when the TCP handshake completes. */
function tcpProbe(target: ProbeTarget, attempt: Attempt): void {
  const socket = net.connect({ host: target.ip, port: target.port, localAddress: target.localAddress });
  attempt.track({ destroy: () => hangUp(socket) });
  socket.on('connect', () => attempt.ok());
  socket.on('error', (err) => attempt.fail(describeError(err)));
}
