import type { Command } from 'commander';
import { TierdnsError, errorMessage } from '../util/errors';
import { normalizePoolName } from '../model/names';
import type { Store } from '../store/types';
import { bad } from './options';
import { statusJson, type StatusJson } from './storeStatus';
import { describeStore, withStore, withStoreOptions, type StoreFlags } from './storeAccess';
import { CHECK_CODES, checkResult, fit, poolHealth, renderPoolDetail, renderSummary } from './statusView';

// `tierdns status` (docs/cli.md "status"): a line per pool, the members of one pool, JSON for
// scripts, a screen that redraws itself, and a monitoring check with Nagios exit codes.

interface StatusFlags extends StoreFlags {
  json?: boolean;
  watch?: boolean;
  down?: boolean;
  check?: boolean;
}

/** Columns to fit: the terminal's, else $COLUMNS, else 80. */
function screenWidth(): number {
  const env = Number(process.env.COLUMNS);
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Number.isInteger(env) && env >= 40 ? env : 80;
}

async function readStatus(store: Store, only: string | undefined): Promise<StatusJson> {
  const snap = await store.snapshot();
  if (only !== undefined && !snap.pools.has(only)) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${only}`);
  return statusJson(snap, Date.now(), only);
}

/** status --json: the pools as stored, each with what `status` summarizes of it. */
function jsonText(s: StatusJson): string {
  return `${JSON.stringify({ ...s, pools: s.pools.map((p) => ({ ...p, health: poolHealth(p) })) })}\n`;
}

function textLines(s: StatusJson, only: string | undefined, flags: StatusFlags, width: number, worstFirst: boolean): string[] {
  if (only !== undefined) return renderPoolDetail(s.pools[0] as StatusJson['pools'][number], Date.now(), { width, down: flags.down === true });
  return renderSummary(s, { width, down: flags.down === true, worstFirst });
}

export function registerStatusCommand(program: Command): void {
  withStoreOptions(program.command('status [pool]'))
    .description('what each pool answers now: one line per pool, or the members of one pool')
    .option('--json', 'print JSON: {"pools":[{…,"health":{…},"members":[…]}],"instances":[…],"zones":[…]} (with --watch: one line per second)')
    .option('--watch', 'redraw every second until Ctrl-C (worst pools first)')
    .option('--down', 'only pools with a member not up (with a pool: only its members not up)')
    .option('--check', 'monitoring check: one line; exit 0 every member up, 1 some down or drained, 2 a pool with no member up, 3 store unreachable')
    .action(async (rawPool: string | undefined, flags: StatusFlags) => {
      if (flags.check) {
        if (flags.json || flags.watch) throw bad('--check', 'goes alone: not with --json or --watch');
        await runCheck(rawPool, flags);
        return;
      }
      const only = rawPool === undefined ? undefined : normalizePoolName(rawPool, 'pool name');
      await withStore(flags, async (store, choice) => {
        if (flags.watch) {
          await watchLoop(`tierdns status  ${describeStore(choice, store)}`, async (width) => {
            const s = await readStatus(store, only);
            return flags.json ? [jsonText(s).trimEnd()] : textLines(s, only, flags, width, true);
          }, flags.json === true);
          return;
        }
        const s = await readStatus(store, only);
        process.stdout.write(flags.json ? jsonText(s) : `${textLines(s, only, flags, screenWidth(), false).join('\n')}\n`);
      });
    });
}

/** status --check: every failure, the store's included, is one UNKNOWN line and exit 3. */
async function runCheck(rawPool: string | undefined, flags: StatusFlags): Promise<void> {
  let result: { status: keyof typeof CHECK_CODES; line: string };
  try {
    const only = rawPool === undefined ? undefined : normalizePoolName(rawPool, 'pool name');
    result = await withStore(flags, async (store) => checkResult(await readStatus(store, only)));
  } catch (err) {
    const code = err instanceof TierdnsError ? ` (${err.code})` : '';
    result = { status: 'UNKNOWN', line: `TIERDNS UNKNOWN - ${errorMessage(err).replace(/\s+/g, ' ')}${code}` };
  }
  process.stdout.write(`${result.line}\n`);
  process.exitCode = CHECK_CODES[result.status];
}

/**
 * The lines of one --watch frame on a terminal of `rows` lines: the header always, then as much
 * of the body as fits, the cut said on the last line (a frame never scrolls the screen).
 */
export function watchFrame(header: string, body: string[], rows: number, width: number): string[] {
  const room = Math.max(1, rows - 2);
  const lines = body.length <= room ? body
    : [...body.slice(0, room - 1), `… ${body.length - room + 1} more lines: narrow with --down or a pool name`];
  return [fit(header, width), '', ...lines.map((l) => fit(l, width))];
}

/** Redraw every second until SIGINT/SIGTERM; store errors are shown, not fatal. */
async function watchLoop(title: string, render: (width: number) => Promise<string[]>, json: boolean): Promise<void> {
  const tty = process.stdout.isTTY === true && !json;
  let stop = false;
  let wake: () => void = () => undefined;
  const onSignal = (): void => {
    stop = true;
    wake();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The alternate screen (as top and less use) keeps the shell's scrollback as it was.
  if (tty) process.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    for (let frame = 0; !stop; frame++) {
      const width = screenWidth();
      let body: string[];
      try {
        body = await render(width);
      } catch (err) {
        body = json ? [JSON.stringify({ error: errorMessage(err) })] : [`tierdns: ${errorMessage(err)}`];
      }
      if (json) {
        process.stdout.write(`${body.join('\n')}\n`);
      } else {
        const header = `${title}  ${new Date().toISOString()}  (Ctrl-C to quit)`;
        const rows = tty && process.stdout.rows ? process.stdout.rows : Number.MAX_SAFE_INTEGER;
        const lines = watchFrame(header, body, rows, width);
        // Home, each line cleared to its end, the rest of the screen cleared: no flicker, no scrolling.
        process.stdout.write(tty ? `\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J` : `${frame > 0 ? '\n' : ''}${lines.join('\n')}\n`);
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 1000);
      });
    }
  } finally {
    if (tty) process.stdout.write('\x1b[?25h\x1b[?1049l');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
