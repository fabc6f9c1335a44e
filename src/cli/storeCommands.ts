import type { Command } from 'commander';

// Placeholder so the CLI builds while this command group is written.
export function registerStoreCommands(program: Command): void {
  void program;
}
