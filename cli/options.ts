/**
 * Options many commands share, described once so that `--help` words them the same everywhere.
 */
import type { Command } from 'commander';

export const CONFIG_FILE_HELP = 'config file (default: crmlink.yaml or $CRMLINK_CONFIG)';

/** A subcommand of `parent` that reads the config file: `-c, --config <file>`. */
export function configCommand(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description).option('-c, --config <file>', CONFIG_FILE_HELP);
}
