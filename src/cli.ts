#!/usr/bin/env node
// The `tierdns` binary (package.json bin): everything lives in cli/main.
import { main } from './cli/main';
import { printable } from './util/terminal';

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`tierdns: ${printable(err instanceof Error ? err.message : String(err))}\n`);
  process.exitCode = 1;
});
