import { Command, CommanderError } from 'commander';
import { TierdnsError } from '../util/errors';
import { tierdnsVersion } from '../util/version';
import { printable } from '../util/terminal';
import { DRAIN_TIMEOUT_EXIT } from './drainWait';
import { registerServeCommand } from './serveCommand';
import { registerApplyCommands } from './applyCommand';
import { registerStatusCommand } from './statusCommand';
import { registerStoreCommands } from './storeCommands';
import { registerZoneCommands } from './zoneCommands';

/** Parse argv and run one command; errors become one line on stderr and a non-zero exit. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('tierdns')
    .description('Authoritative DNS for pools of health-checked load balancers')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError(true)
    .version(tierdnsVersion(), '-V, --version', 'print the tierdns version');
  registerServeCommand(program);
  registerStoreCommands(program);
  registerStatusCommand(program);
  // After `pool set`: the pools file takes its flags as settings.
  registerApplyCommands(program);
  registerZoneCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its one-line message; help/version exit 0.
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof TierdnsError) {
      process.stderr.write(`tierdns: ${printable(err.message)} (${err.code})\n`);
      // A drain that did not finish in time is not a failed command: its own status (docs/cli.md).
      process.exitCode = err.code === 'TIERDNS_E_TIMEOUT' ? DRAIN_TIMEOUT_EXIT : 2;
      return;
    }
    throw err;
  }
}
