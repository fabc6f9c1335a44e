import { isIP } from 'node:net';
import { TierdnsError } from '../util/errors';

// The settings tierdns takes from its environment, read once here and passed down as values:
// nothing below cli/ and server/ reads process.env.

/** The store `npm start` serves and the CLI uses when neither --store nor TIERDNS_STORE says. */
export const DEFAULT_STORE_URL = 'file:data/store.json';

export interface Environment {
  /** TIERDNS_STORE: default for --store. */
  store?: string;
  /** TIERDNS_PREFIX: Redis key prefix when the URL has no ?prefix= (default tierdns:). */
  prefix?: string;
  /** TIERDNS_PROBE_SOURCE: source address of health probes (default: the kernel chooses). */
  probeSource?: string;
  /** TIERDNS_PROBE_THREAD=0: probe on the thread that answers instead of a thread of its own. */
  probeThread: boolean;
  /** TIERDNS_PROBE_NICE: how much lower the probe thread runs, 0-19 (default: health/thread's). */
  probeNice?: number;
  /** TIERDNS_NATIVE=0: use Node's dgram and net instead of the native addon (docs/native.md). */
  native: boolean;
  /** TIERDNS_WORKER_INDEX: which worker of `serve --workers N` this process is (set by the primary). */
  workerIndex: number;
}

export const ENVIRONMENT_HELP = `
Environment:
  TIERDNS_STORE          default for --store (else ${DEFAULT_STORE_URL})
  TIERDNS_PREFIX         Redis key prefix (default tierdns:)
  TIERDNS_PROBE_SOURCE   source address for health probes (default: chosen by the kernel)
  TIERDNS_PROBE_THREAD   0 = probe on the thread that answers (default: a thread of its own)
  TIERDNS_PROBE_NICE     how much lower the probe thread runs, 0-19 (default 5; Linux)
  TIERDNS_NATIVE         0 = Node's own sockets instead of the native addon`;

/** Read and check the environment; a value that cannot be used is an error naming the variable. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const text = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const probeSource = text('TIERDNS_PROBE_SOURCE');
  if (probeSource !== undefined && !isIP(probeSource)) {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', `TIERDNS_PROBE_SOURCE must be an IP address, got "${probeSource}"`);
  }
  const niceText = text('TIERDNS_PROBE_NICE');
  const probeNice = niceText === undefined ? undefined : Number(niceText);
  if (probeNice !== undefined && !(Number.isInteger(probeNice) && probeNice >= 0 && probeNice <= 19)) {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', `TIERDNS_PROBE_NICE must be an integer from 0 to 19, got "${niceText}"`);
  }
  const workerIndex = Number(text('TIERDNS_WORKER_INDEX') ?? 1);
  if (!Number.isInteger(workerIndex) || workerIndex < 1) {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', `TIERDNS_WORKER_INDEX must be a positive integer, got "${env.TIERDNS_WORKER_INDEX}"`);
  }
  return {
    store: text('TIERDNS_STORE'),
    prefix: text('TIERDNS_PREFIX'),
    probeSource,
    probeThread: env.TIERDNS_PROBE_THREAD !== '0',
    probeNice,
    native: env.TIERDNS_NATIVE !== '0',
    workerIndex,
  };
}
