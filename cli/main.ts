/**
 * crmlink's command line. Each command group lives in cli/commands/<group>.ts and registers itself;
 * this file only wires them up and turns errors into exit codes (0 ok, 1 failed, 2 usage/config).
 */
import { Command, CommanderError, Option } from 'commander';
import { LOG_FORMATS, type LogFormat } from './log-output.js';
import { CrmlinkError } from '../core/errors.js';
import { defaultContext, type CliContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { register as registerConfig } from './commands/config.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerCustomers } from './commands/customers.js';
import { register as registerSources } from './commands/sources.js';
import { register as registerMapping } from './commands/mapping.js';
import { register as registerSync } from './commands/sync.js';
import { register as registerConflicts } from './commands/conflicts.js';
import { register as registerHistory } from './commands/history.js';
import { register as registerHub } from './commands/hub.js';
import { register as registerAnalysis } from './commands/analysis.js';
import { register as registerModel } from './commands/model.js';
import { register as registerSchema } from './commands/schema.js';

type Register = (program: Command, ctx: CliContext) => void;

/** Commands that run a server: their log is JSON unless --log-format says otherwise. */
const SERVING_COMMANDS = new Set(['serve', 'demo']);

const COMMANDS: Register[] = [registerDemo, registerServe, registerConfig, registerSources, registerMapping, registerSync, registerConflicts, registerHistory, registerCustomers, registerAnalysis, registerHub, registerModel, registerSchema];

export function buildProgram(ctx: CliContext = defaultContext()): Command {
  const program = new Command('crmlink')
    .description('One customer view over the ERP, finance and OA databases you already run.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .option('--verbose', 'log everything, as JSON with stacks and SQL (the details of a failure)')
    .addOption(new Option('--log-format <format>', 'how the log is written to stderr: human (readable lines; the default of commands) or json (for machines; the default of serve and demo)').choices(LOG_FORMATS))
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  program.hook('preAction', (_root, action) => {
    if (!ctx.logging) return;
    const o = program.opts<{ verbose?: boolean; logFormat?: LogFormat }>();
    ctx.logging.verbose = o.verbose === true;
    if (o.logFormat) ctx.logging.format = o.logFormat;
    ctx.logging.serving = SERVING_COMMANDS.has(action.name()) && action.parent === program;
  });
  // Help, usage errors and --version go through the context like every other output.
  const output = { writeOut: (s: string) => ctx.out(s.replace(/\n$/, '')), writeErr: (s: string) => ctx.err(s.replace(/\n$/, '')) };
  program.configureOutput(output);
  for (const sub of allCommands(program)) sub.exitOverride().configureOutput(output);
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[], ctx: CliContext = defaultContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeFor(err);
    if (code !== EXIT.ok && !(err instanceof Error && err.message.startsWith('exit '))) ctx.err(describe(err, ctx.logging?.verbose ?? false));
    return code;
  }
}

/** One line for a person; the stack with --verbose; a hint to it for what is not the user's to fix. */
function describe(err: unknown, verbose: boolean): string {
  const details = verbose || process.env.CRMLINK_DEBUG ? (err instanceof Error && err.stack ? `\n${err.stack}` : '') : err instanceof CrmlinkError && err.kind === 'user' ? '' : '\n  details: run again with --verbose';
  if (err instanceof CrmlinkError) return `error [${err.code}]: ${err.message}${details}`;
  if (err instanceof Error) return `error: ${err.message}${details}`;
  return `error: ${String(err)}`;
}
