import type { Command } from 'commander';
import { loadZoneDir } from '../zone/load';
import { formatProblem } from '../zone/types';
import { printable } from '../util/terminal';

// `tierdns zone check [DIR]` (docs/cli.md): the same loader `serve` uses, so a file that
// passes here loads on SIGHUP. Problems go to stderr as file:line so editors can jump to them.

export function registerZoneCommands(program: Command): void {
  const zone = program.command('zone').description('zone file tools');
  zone
    .command('check')
    .description('parse and check every <zone>.zone file in DIR; exit 1 on any problem')
    .argument('[dir]', 'zones directory', 'zones')
    .action((dir: string) => {
      const { zones, problems } = loadZoneDir(dir);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`${printable(formatProblem(p))}\n`);
        process.exitCode = 1;
        return;
      }
      if (zones.length === 0) {
        // An empty directory would make `serve` refuse every query: almost surely a wrong path.
        process.stderr.write(`${dir}: no *.zone files\n`);
        process.exitCode = 1;
        return;
      }
      for (const z of [...zones].sort((a, b) => a.origin.localeCompare(b.origin))) {
        process.stdout.write(`${z.origin}: ${z.records.length} records OK\n`);
      }
    });
}
