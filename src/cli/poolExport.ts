import { Document, isMap, isSeq } from 'yaml';
import { TierdnsError } from '../util/errors';
import { exactDuration } from '../util/duration';
import { memberSpecOf, sameConfig, type MemberSpec } from '../model/poolPlan';
import type { PoolConfig, PoolView } from '../model/types';
import { mergePoolConfig, parsePoolFlags, type PoolSetFlags } from './options';
import type { SettingKey } from './poolFile';

// `tierdns export` (docs/cli.md "export"): the store in the pools-file format, each pool with
// only the settings that differ from what the file would default to, so a file stays short and
// `export | apply --dry-run` plans nothing (checked here for every pool before printing).

export type SettingValue = string | number;

/** Every setting of a config as file text, defaults included. */
export function allSettings(config: PoolConfig, settings: SettingKey[]): Map<string, SettingValue> {
  const c = config as unknown as Record<string, unknown>;
  const out = new Map<string, SettingValue>();
  for (const { key, attribute } of settings) {
    let value: unknown;
    if (attribute === 'ttl') value = exactDuration(config.ttlSeconds * 1000);
    else if (attribute === 'expect') value = config.expectMin === config.expectMax ? config.expectMin : `${config.expectMin}-${config.expectMax}`;
    // Units live in field names (intervalMs, ttlSeconds): durations are written with their unit.
    else if (typeof c[`${attribute}Ms`] === 'number') value = exactDuration(c[`${attribute}Ms`] as number);
    else if (typeof c[`${attribute}Seconds`] === 'number') value = `${c[`${attribute}Seconds`] as number}s`;
    else value = c[attribute];
    if (typeof value === 'string' || typeof value === 'number') out.set(key, value);
  }
  return out;
}

/** The config the file would give for these settings (undefined when they do not parse). */
function configFrom(name: string, values: Map<string, SettingValue>, settings: SettingKey[]): PoolConfig | undefined {
  const flags: PoolSetFlags = {};
  for (const { key, attribute } of settings) {
    const v = values.get(key);
    if (v !== undefined) flags[attribute] = String(v);
  }
  try {
    return mergePoolConfig(name, undefined, parsePoolFlags(flags));
  } catch {
    return undefined;
  }
}

const same = (a: PoolConfig | undefined, b: PoolConfig): boolean => a !== undefined && sameConfig(a, b);

/** The settings to write for a pool: those the file's defaults would not give back. */
export function exportSettings(config: PoolConfig, settings: SettingKey[]): Map<string, SettingValue> {
  const values = allSettings(config, settings);
  if (!same(configFrom(config.name, values, settings), config)) {
    throw new TierdnsError('TIERDNS_E_INTERNAL', `pool ${config.name}: its settings cannot be written as a pools file`);
  }
  for (const key of [...values.keys()]) {
    const without = new Map(values);
    without.delete(key);
    if (same(configFrom(config.name, without, settings), config)) values.delete(key);
  }
  return values;
}

/** A member as the file writes it: a bare address when every setting is the default. */
function memberEntry(m: MemberSpec): string | Record<string, SettingValue> {
  if (m.weight === 1 && m.port === undefined && m.admin === 'enabled') return m.ip;
  const out: Record<string, SettingValue> = { ip: m.ip };
  if (m.weight !== 1) out.weight = m.weight;
  if (m.port !== undefined) out.port = m.port;
  if (m.admin !== 'enabled') out.admin = m.admin;
  return out;
}

export function exportDocument(views: Iterable<PoolView>, settings: SettingKey[]): { pools: Record<string, Record<string, unknown>> } {
  const pools: Record<string, Record<string, unknown>> = {};
  for (const v of [...views].sort((a, b) => (a.config.name < b.config.name ? -1 : 1))) {
    const entry: Record<string, unknown> = Object.fromEntries(exportSettings(v.config, settings));
    entry.members = v.members.map((m) => memberEntry(memberSpecOf(m)));
    pools[v.config.name] = entry;
  }
  return { pools };
}

/** YAML with one line per member (flow maps, as people write them), or JSON. */
export function renderExport(doc: ReturnType<typeof exportDocument>, json: boolean): string {
  if (json) return `${JSON.stringify(doc, null, 2)}\n`;
  if (Object.keys(doc.pools).length === 0) return 'pools: {}\n';
  const yaml = new Document(doc);
  const pools = yaml.get('pools');
  if (isMap(pools)) {
    for (const pair of pools.items) {
      const members = isMap(pair.value) ? pair.value.get('members', true) : undefined;
      if (isSeq(members)) for (const item of members.items) if (isMap(item)) item.flow = true;
    }
  }
  return yaml.toString({ lineWidth: 0 });
}
