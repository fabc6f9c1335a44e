import fs from 'node:fs';
import path from 'node:path';

/** Counters the native socket keeps (native/udp_batch.c). */
export interface UdpBatchStats {
  /** SO_RCVBUF as the kernel reports it (twice what was granted; 0 when closed). */
  recvBufferBytes: number;
  received: number;
  sent: number;
  batches: number;
  /** Datagrams longer than a slot, handed to JS as empty (dropped). */
  truncated: number;
  /** Responses lost to a send error. */
  sendErrors: number;
  /** Times the socket was full (EAGAIN) and reading paused until it drained. */
  sendBlocked: number;
  /** Response entries JS wrote out of bounds (a bug if ever non-zero). */
  badResponses: number;
  recvErrors: number;
}

/**
 * One UDP socket of the addon. Buffer layout (see native/udp_batch.c): inBuf holds `batch`
 * slots of slotBytes; meta is uint32 [in lengths | out indexes | out lengths], `batch` each,
 * then [source addresses], four words per datagram; outBuf holds the responses of one batch
 * back to back.
 */
export interface UdpBatchSocket {
  readonly inBuf: ArrayBuffer;
  readonly outBuf: ArrayBuffer;
  readonly meta: ArrayBuffer;
  /** Returns the bound port; throws an Error whose code is the errno name (EADDRINUSE…). */
  bind(host: string, port: number, reusePort: boolean): number;
  /** onBatch(count) answers datagrams 0..count-1 and returns how many responses it packed. */
  start(onBatch: (count: number) => number): void;
  /** false when there was nothing to close (onClose is then not called). */
  close(onClose: () => void): boolean;
  stats(): UdpBatchStats;
}

/**
 * TCP connect checks and agent reads (native/tcp_probe.c). onResult(id, err, latencyUs): err 0 =
 * connected, an errno (ECONNREFUSED…), or -1 = timed out. connect() returns 0 when the probe
 * started (onResult follows), or the errno of a connect that failed at once (no onResult then).
 * readLine() connects, reads to the first CR or LF and hangs up; it returns as connect() does,
 * and its onResult has a fourth argument, the line (see AGENT_* for err). Absent from an addon
 * built before agent reads were added.
 */
export interface TcpProber {
  connect(id: number, ip: string, port: number, localIp: string, timeoutMs: number): number;
  readLine?(id: number, ip: string, port: number, localIp: string, timeoutMs: number, maxLine: number): number;
  inFlight(): number;
}

/** readLine results: the agent closed (line: what came, maybe ''). */
export const AGENT_EOF = -2;
/** readLine results: no CR or LF within maxLine + 1 bytes (no line). */
export const AGENT_LONG = -3;
/** readLine results: the read failed after connecting; the errno is in the low 16 bits. */
export const AGENT_READ_FAILED = 0x10000;

export interface UdpBatchAddon {
  /**
   * TCP_NOTSENT_LOWAT on a connected socket (native/tcp_socket.c): returns 0 or the errno.
   * Absent from an addon built before it was added.
   */
  tcpLimitUnsent?: (fd: number, bytes: number) => number;
  /** glibc's malloc_trim(0): returns freed heap pages to the system; true when some were. */
  trimHeap?: () => boolean;
  UdpBatchSocket: new (batch: number, slotBytes: number, outBytes: number) => UdpBatchSocket;
  TcpProber: new (onResult: (id: number, err: number, latencyUs: number, line?: string) => void) => TcpProber;
}

/** Built by node-gyp at install (binding.gyp): the UDP socket and the tcp prober; absent where it could not build. */
export const NATIVE_ADDON_PATH = path.join(__dirname, '..', '..', 'build', 'Release', 'udp_batch.node');

/** uint32 words of meta per datagram in the addon this code expects (see UdpBatchSocket). */
export const META_WORDS_PER_DATAGRAM = 7;

let loaded: { addon?: UdpBatchAddon; problem?: string } | undefined;

let disabled = false;

/** Use Node's dgram and net instead of the addon, process-wide (serve's TIERDNS_NATIVE=0); set before first use. */
export function useNativeAddon(enabled: boolean): void {
  disabled = !enabled;
}

/**
 * The native addon, or undefined to use Node's dgram and net: when turned off with
 * useNativeAddon(false), when it was not built, or when it does not load (`problem` says why).
 */
export function nativeUdp(): { addon?: UdpBatchAddon; problem?: string } {
  if (disabled) return {};
  if (!loaded) {
    try {
      // Not built (no compiler at install, or install scripts not run): said once by serve, which then answers with dgram.
      loaded = fs.existsSync(NATIVE_ADDON_PATH) ? { addon: require(NATIVE_ADDON_PATH) as UdpBatchAddon }
        : { problem: `the native addon was not built (${NATIVE_ADDON_PATH}: run npm run install in the package folder, or TIERDNS_NATIVE=0 to go without)` };
      // An addon built from older sources has a shorter meta (no source addresses): not used.
      const meta = loaded.addon && new loaded.addon.UdpBatchSocket(1, 512, 512).meta.byteLength;
      if (meta !== undefined && meta !== META_WORDS_PER_DATAGRAM * 4) {
        loaded = { problem: `${NATIVE_ADDON_PATH} is out of date (rebuild it: npm run install)` };
      }
    } catch (err) {
      loaded = { problem: `cannot load ${NATIVE_ADDON_PATH}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return loaded;
}
