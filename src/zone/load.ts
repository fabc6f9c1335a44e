// The zones directory: one `<zone>.zone` file per zone, the file name naming the zone.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../util/errors';
import { nameText, parseName } from './names';
import { readZoneFileText } from './fileText';
import { parseZone } from './parse';
import type { ZoneData, ZoneProblem } from './types';

const SUFFIX = '.zone';

/**
 * Load every `*.zone` file of `dir`. A zone with any problem is left out of `zones`
 * (so a reload can keep serving its previous version) and its problems are returned.
 * Never throws: an unreadable directory is a problem too.
 */
export function loadZoneDir(dir: string): { zones: ZoneData[]; problems: ZoneProblem[] } {
  const zones: ZoneData[] = [];
  const problems: ZoneProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX)).sort();
  } catch (err) {
    return { zones, problems: [{ file: dir, line: 0, message: `cannot read the zones directory: ${errorMessage(err)}` }] };
  }

  // The file name is the zone name (lower-cased: DNS names are case-insensitive).
  const byOrigin = new Map<string, string[]>();
  for (const name of names) {
    const file = join(dir, name);
    const base = name.slice(0, -SUFFIX.length);
    const labels = base === '' || base.endsWith('.') ? 'empty label' : parseName(`${base}.`, []);
    if (typeof labels === 'string') {
      problems.push({ file, line: 0, message: `the file name does not name a zone (${labels}): name it <zone>${SUFFIX}` });
      continue;
    }
    const origin = nameText(labels);
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), file]);
  }

  for (const [origin, files] of byOrigin) {
    if (files.length > 1) {
      // Both files are marked broken: neither silently wins, and a reload keeps the old zone.
      for (const file of files) {
        problems.push({ file, line: 0, message: `zone ${origin} is defined by more than one file: ${files.join(', ')}` });
      }
      continue;
    }
    const file = files[0];
    let text: string;
    try {
      text = readZoneFileText(file);
    } catch (err) {
      problems.push({ file, line: 0, message: `cannot read the zone file: ${errorMessage(err)}` });
      continue;
    }
    const parsed = parseZone(text, { file, origin });
    if (parsed.problems.length > 0) problems.push(...parsed.problems);
    else zones.push(parsed.zone);
  }
  return { zones, problems };
}
