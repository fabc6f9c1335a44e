import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { openStore } from '../store/open';
import { errorMessage } from '../util/errors';
import { useNativeAddon } from '../util/native';
import { LOG_OPTIONS } from '../util/log';
import { HealthLoop } from './loop';
import type { OwnState } from './loopTypes';
import type { FromProbeWorker, ProbeWorkerData, ToProbeWorker } from './thread';

// The probe thread's side of ./thread: a HealthLoop with its own store connection, fed pool
// changes by the serving thread, reporting probe counts back for metrics.

/** How often probe counts go to the serving thread (for /metrics). */
const STATS_EVERY_MS = 500;

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('probeWorker runs as a worker thread of ./thread');
  const data = workerData as ProbeWorkerData;
  const log = pino({ ...LOG_OPTIONS, level: data.logLevel, base: data.logBase });
  if (data.nice > 0) lowerPriority(data.nice, log);
  useNativeAddon(data.native);
  const store = openStore(data.storeUrl, { log, prefix: data.prefix });
  const post = (msg: FromProbeWorker) => port.postMessage(msg);
  // Own states go to the serving thread once per turn: a mass failure is one message.
  let own: Array<[string, string, OwnState | null]> = [];
  const onOwnState = (pool: string, ip: string, state: OwnState | undefined): void => {
    if (own.length === 0) setImmediate(() => { const updates = own; own = []; post({ type: 'own', updates }); });
    own.push([pool, ip, state ?? null]);
  };
  // The heartbeat is the serving thread's (./thread): it goes on while this thread restarts.
  const loop = new HealthLoop({
    store, instance: data.instance, log, heartbeatMs: 0, sourceAddress: data.sourceAddress, onOwnState, onWritesOk: (ok) => post({ type: 'writes', ok }),
  });
  let lastTotal = -1;
  const statsTimer = setInterval(() => {
    const stats = loop.stats();
    if (stats.ok + stats.failed === lastTotal) return;
    lastTotal = stats.ok + stats.failed;
    post({ type: 'stats', stats });
  }, STATS_EVERY_MS);
  statsTimer.unref();

  port.on('message', (msg: ToProbeWorker) => {
    switch (msg.type) {
      case 'pools':
        for (const [name, pool] of msg.updates) loop.updatePool(name, pool ?? undefined);
        break;
      case 'start':
        loop.start();
        break;
      case 'stop':
        clearInterval(statsTimer);
        loop.stop()
          .catch((err: unknown) => log.error(`health: stop failed: ${errorMessage(err)}`))
          .then(() => store.close())
          .catch((err: unknown) => log.warn(`store: close failed: ${errorMessage(err)}`))
          .finally(() => {
            post({ type: 'stats', stats: loop.stats() });
            port.close();
          });
        break;
    }
  });
}

/**
 * On Linux the nice value is per thread, and setpriority() on "process" 0 changes the calling
 * thread only: this lowers the probe thread, not the one answering queries. Elsewhere it would
 * lower the whole process, so it is skipped there.
 */
function lowerPriority(by: number, log: pino.Logger): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(Math.min(19, getPriority() + by));
  } catch (err) {
    log.warn(`health: cannot lower the probe thread's priority: ${errorMessage(err)}`);
  }
}

main();
