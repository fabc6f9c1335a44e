import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

// Reading a zone file or an $INCLUDEd one. Only a regular file of sane size is read: a device
// (/dev/zero never ends), a FIFO or a terminal (they block until someone writes) would stall
// zone loading, which runs on the thread that answers queries, or fill the memory.

/** Larger zone files are refused (docs/dns.md): far beyond any zone tierdns is built for. */
export const MAX_ZONE_FILE_BYTES = 64 * 1024 * 1024;

/** The file's text; throws an Error whose message says why it cannot be read. */
export function readZoneFileText(path: string): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    // A directory falls through to the read, which names it (EISDIR).
    if (!st.isFile() && !st.isDirectory()) throw new Error('it is not a regular file');
    if (st.size > MAX_ZONE_FILE_BYTES) throw new Error(`it is larger than ${MAX_ZONE_FILE_BYTES / 1048576} MiB`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
