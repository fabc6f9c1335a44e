import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { TierdnsError, errorMessage } from '../util/errors';
import { printable } from '../util/terminal';
import { planPool, planRemove, type PoolPlan } from '../model/poolPlan';
import type { PoolView } from '../model/types';
import { poolNameChecker } from './poolNameCheck';
import type { FilePool, FileProblem, SettingKey } from './poolFile';
import { missingFileStore, storeLine, withStore, withStoreOptions, type StoreFlags } from './storeAccess';

// `tierdns apply -f FILE` and `tierdns export` (docs/cli.md "apply"): the store made to match a
// pools file in one atomic step (Store.syncPools), a plan printed first or instead (--dry-run).

// Loaded when these commands run: the YAML parser is slow to load, which every other
// command (a monitoring check every minute, 20 member adds in a row) need not pay.
const poolFileModule = (): typeof import('./poolFile') => require('./poolFile') as typeof import('./poolFile');
const exporter = (): typeof import('./poolExport') => require('./poolExport') as typeof import('./poolExport');

/** The file's settings are exactly `pool set`'s flags (without --store and --zones), whatever flags it grows. */
function poolSettings(program: Command): SettingKey[] {
  const set = program.commands.find((c) => c.name() === 'pool')?.commands.find((c) => c.name() === 'set');
  if (!set) throw new TierdnsError('TIERDNS_E_INTERNAL', 'pool set is not registered before apply');
  return set.options
    .filter((o) => o.long !== undefined && o.long !== '--store' && o.long !== '--zones')
    .map((o) => ({ key: (o.long as string).slice(2), attribute: o.attributeName() as SettingKey['attribute'] }));
}

/** Larger pools files are refused (docs/cli.md): 10,000 pools of 4 members export to under 2 MiB. */
const MAX_POOL_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The pools file's text, read at most MAX_POOL_FILE_BYTES + 1 bytes far: a device (`-f /dev/zero`)
 * or a pipe that never ends would otherwise be read until memory runs out. Standard input, pipes
 * and FIFOs (`-f <(…)`) are read as they come, so they cannot be sized before.
 */
function readSource(file: string): string {
  const what = file === '-' ? 'standard input' : file;
  const tooLarge = (): TierdnsError => new TierdnsError('TIERDNS_E_USAGE', `cannot read ${what}: it is larger than ${MAX_POOL_FILE_BYTES / 1048576} MiB`);
  let fd: number | undefined;
  try {
    fd = file === '-' ? 0 : openSync(file, 'r');
    const st = fstatSync(fd);
    if (st.isFile() && st.size > MAX_POOL_FILE_BYTES) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, MAX_POOL_FILE_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > MAX_POOL_FILE_BYTES) throw tooLarge();
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof TierdnsError) throw err;
    throw new TierdnsError('TIERDNS_E_USAGE', `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** Rules that need the store: names in a served zone, backups that exist in the result and lead nowhere back. */
function checkAgainstStore(
  pools: FilePool[], current: ReadonlyMap<string, PoolView>, remove: ReadonlySet<string>, check: (name: string) => void,
): FileProblem[] {
  const problems: FileProblem[] = [];
  const backupOf = new Map<string, string>();
  for (const [name, v] of current) if (!remove.has(name)) backupOf.set(name, v.config.whenAllDown);
  for (const p of pools) backupOf.set(p.spec.config.name, p.spec.config.whenAllDown);
  for (const p of pools) {
    const name = p.spec.config.name;
    try {
      check(name);
    } catch (err) {
      problems.push({ line: p.line, field: `pools.${name}`, message: errorMessage(err), code: err instanceof TierdnsError ? err.code : 'TIERDNS_E_NOT_IN_ZONE' });
    }
    const target = p.spec.config.whenAllDown.startsWith('pool:') ? p.spec.config.whenAllDown.slice(5) : undefined;
    if (target === undefined) continue;
    const at = { line: p.settingLines.get('when-all-down') ?? p.line, field: `pools.${name}.when-all-down` };
    if (!backupOf.has(target)) {
      const why = current.has(target) ? `${target} would be removed (--prune) and is not in the file` : `no pool named ${target} in the file or the store`;
      problems.push({ ...at, message: why, code: 'TIERDNS_E_NO_POOL' });
      continue;
    }
    const seen = new Set([name]);
    for (let hop: string | undefined = target; hop !== undefined;) {
      if (seen.has(hop)) {
        problems.push({ ...at, message: `pool:${target} would make a loop of backups back to ${hop}`, code: 'TIERDNS_E_BAD_VALUE' });
        break;
      }
      seen.add(hop);
      const next = backupOf.get(hop);
      hop = next?.startsWith('pool:') ? next.slice(5) : undefined;
    }
  }
  return problems;
}

function renderPlans(plans: PoolPlan[], settings: SettingKey[]): string[] {
  const { allSettings, exportSettings } = exporter();
  const out: string[] = [];
  const settingText = (m: Map<string, string | number>): string => [...m].map(([k, v]) => `${k} ${v}`).join(', ');
  const memberText = (m: NonNullable<PoolPlan['members'][number]['after']>): string =>
    [m.weight !== 1 && `weight ${m.weight}`, m.port !== undefined && `port ${m.port}`, m.admin !== 'enabled' && m.admin].filter(Boolean).join(', ');
  for (const p of plans) {
    if (p.action === 'same') continue;
    if (p.action === 'remove') {
      out.push(`- pool ${p.name} (${p.members.length} member${p.members.length === 1 ? '' : 's'})`);
      continue;
    }
    if (p.action === 'create') {
      const s = settingText(exportSettings(p.after as NonNullable<PoolPlan['after']>, settings));
      out.push(`+ pool ${p.name}${s ? `  ${s}` : ''}`);
    } else {
      out.push(`~ pool ${p.name}`);
      const before = allSettings(p.before as NonNullable<PoolPlan['before']>, settings);
      const after = allSettings(p.after as NonNullable<PoolPlan['after']>, settings);
      for (const { key } of settings) {
        if (before.get(key) !== after.get(key)) out.push(`    ~ ${key} ${before.get(key) ?? '(none)'} -> ${after.get(key) ?? '(none)'}`);
      }
    }
    for (const m of p.members) {
      if (m.action === 'remove') out.push(`    - member ${m.ip}`);
      else if (m.action === 'add') {
        const s = memberText(m.after as NonNullable<typeof m.after>);
        out.push(`    + member ${m.ip}${s ? `  ${s}` : ''}`);
      } else {
        const b = m.before as NonNullable<typeof m.before>;
        const a = m.after as NonNullable<typeof m.after>;
        out.push(`    ~ member ${m.ip}  ${m.changed.map((k) => `${k} ${b[k] ?? 'pool'} -> ${a[k] ?? 'pool'}`).join(', ')}`);
      }
    }
  }
  return out;
}

const matching = (n: number): string => (n === 1 ? '1 pool matches' : `${n} pools match`);

function counts(plans: PoolPlan[]): Record<PoolPlan['action'], number> {
  const c = { create: 0, change: 0, remove: 0, same: 0 };
  for (const p of plans) c[p.action]++;
  return c;
}

interface ApplyFlags extends StoreFlags {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
}

export function registerApplyCommands(program: Command): void {
  withStoreOptions(program.command('apply'))
    .description('make the store match a pools file (YAML or JSON): pools, settings, members; one atomic step')
    .requiredOption('-f, --file <file>', "pools file ('-' reads standard input)")
    .option('--dry-run', 'print the plan and change nothing')
    .option('--prune', 'also remove pools the file does not name')
    .action(async (flags: ApplyFlags) => {
      const settings = poolSettings(program);
      const label = flags.file === '-' ? '<stdin>' : flags.file;
      const { PoolFileError, readPoolFile } = poolFileModule();
      let pools: FilePool[];
      try {
        pools = readPoolFile(label, readSource(flags.file), settings);
      } catch (err) {
        if (err instanceof PoolFileError) for (const line of err.lines()) process.stderr.write(`tierdns: ${printable(line)}\n`);
        throw err;
      }
      await withStore(flags, async (store, choice) => {
        const check = await poolNameChecker(flags.zones, store);
        const current = (await store.snapshot()).pools;
        const named = new Set(pools.map((p) => p.spec.config.name));
        const remove = new Set(flags.prune ? [...current.keys()].filter((n) => !named.has(n)) : []);
        const problems = checkAgainstStore(pools, current, remove, check);
        if (problems.length > 0) {
          const err = new PoolFileError(label, problems);
          for (const line of err.lines()) process.stderr.write(`tierdns: ${printable(line)}\n`);
          throw err;
        }
        const specs = pools.map((p) => p.spec);
        if (flags.dryRun) {
          const plans = [...specs.map((s) => planPool(current.get(s.config.name), s)), ...[...remove].map((n) => planRemove(current.get(n) as PoolView))];
          const c = counts(plans);
          const lines = renderPlans(plans, settings);
          if (missingFileStore(choice) !== undefined) lines.unshift('(the file store does not exist yet: apply creates it)');
          lines.push(c.create + c.change + c.remove === 0
            ? `dry run: no changes, ${matching(c.same)} ${label}`
            : `dry run: ${c.create} to create, ${c.change} to change, ${c.remove} to remove, ${c.same} unchanged; nothing changed`);
          process.stdout.write(`${lines.join('\n')}\n${storeLine(choice, store)}`);
          return;
        }
        const plans = await store.syncPools(specs, [...remove]);
        const c = counts(plans);
        const lines = renderPlans(plans, settings);
        lines.push(c.create + c.change + c.remove === 0
          ? `no changes: ${matching(c.same)} ${label}`
          : `applied: ${c.create} created, ${c.change} changed, ${c.remove} removed, ${c.same} unchanged`);
        process.stdout.write(`${lines.join('\n')}\n${storeLine(choice, store)}`);
      }, { create: true });
    });

  withStoreOptions(program.command('export'))
    .description('print the pools, their settings and members as a pools file (YAML; --json for JSON)')
    .option('--json', 'print JSON instead of YAML')
    .action(async (flags: StoreFlags & { json?: boolean }) => {
      const settings = poolSettings(program);
      const { exportDocument, renderExport } = exporter();
      await withStore(flags, async (store) => {
        const snap = await store.snapshot();
        process.stdout.write(renderExport(exportDocument(snap.pools.values(), settings), flags.json === true));
      });
    });
}
