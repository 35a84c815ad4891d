import type { Command } from 'commander';
import { positiveInt, type CliContext } from '../context.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { ConfigError, type ConfigIssue } from '../../core/errors.js';
import type { LoadedConfig } from '../../config/load.js';
import { configCommand } from '../options.js';

/**
 * The mapped tables and columns against the live sources, for the sources the file declares
 * without problems (a source whose password variable is unset is not tried).
 */
async function checkLive(loaded: LoadedConfig, issues: readonly ConfigIssue[]): Promise<{ issues: ConfigIssue[]; unreachable: { source: string; message: string }[]; checked: string[] }> {
  const c = loaded.config;
  const mapped = Object.values(c.entities).some((e) => e && Object.keys(e.sources).length > 0);
  if (!mapped) return { issues: [], unreachable: [], checked: [] };
  const skip = new Set(Object.keys(c.sources).filter((n) => issues.some((i) => i.path === `sources.${n}` || i.path.startsWith(`sources.${n}.`))));
  const [{ SourceSet }, { checkMappingsLive }] = await Promise.all([import('../../connectors/registry.js'), import('../../connectors/live-check.js')]);
  const set = SourceSet.open(loaded);
  try {
    const live = await checkMappingsLive(c, set, { skip });
    const locate = loaded.locate ?? ((path: string, message: string): ConfigIssue => ({ code: 'CONFIG_INVALID', path, message }));
    return { issues: live.problems.map((p) => locate(p.path, p.message)), unreachable: live.unreachable, checked: live.checked };
  } finally {
    await set.destroy();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('Check the config file or print its JSON Schema');

  configCommand(config, 'check', 'Validate the config file: every problem with its path and line; exit 2 when invalid')
    .option('--offline', 'do not connect: skip checking the mapped tables and columns against the live sources')
    .option('--sample <n>', 'also read up to N rows of every mapped table and check each value against the model (connects to the sources); exit 2 when a value would be refused', positiveInt)
    .action(async (opts: { config?: string; sample?: number; offline?: boolean }) => {
      const { loaded, issues } = ctx.checkConfig ? await ctx.checkConfig(opts) : { loaded: await ctx.loadConfig(opts), issues: [] };
      const c = loaded.config;
      const live = opts.offline ? undefined : await checkLive(loaded, issues);
      for (const u of live?.unreachable ?? []) {
        ctx.err(`warning: source "${u.source}" not reached (${u.message}): its mapped tables and columns were not checked (--offline skips this check)`);
      }
      const all = [...issues, ...(live?.issues ?? [])];
      if (all.length > 0) {
        const { sortByLine } = await import('../../config/load.js');
        throw new ConfigError(sortByLine(all), loaded.file);
      }
      const { describeMatching, identityConfig } = await import('../../identity/index.js');
      const entities = Object.keys(c.entities);
      // The rules the sync and `customers candidates --find` will use, defaults included, so
      // nobody has to guess what an absent match block means.
      const matching = Object.prototype.hasOwnProperty.call(c.entities, 'Customer')
        ? `\n  match (Customer${c.entities.Customer?.match?.length ? '' : ', default rules: no match block'}): ${describeMatching(identityConfig(c, 'Customer').match, c.entities.Customer?.matchThresholds)}`
        : '';
      const checked = live ? `\n  live: ${live.checked.length} mapped tables checked against their sources${live.checked.length ? ` (${live.checked.join(', ')})` : ''}` : '\n  live: not checked (--offline)';
      ctx.out(
        `config ok: ${loaded.file}\n` +
          `  hub: ${c.hub.dialect}\n` +
          `  sources: ${Object.entries(c.sources).map(([n, s]) => `${n} (${s.dialect ?? s.connector}, ${s.kind})`).join(', ') || 'none'}\n` +
          `  entities: ${entities.join(', ') || 'none'}\n` +
          `  jobs: ${Object.keys(c.sync.jobs).join(', ') || 'none'}` +
          matching +
          checked,
      );
      // Not errors: the config is valid, but these entities will answer 0 rows.
      const { unsyncedEntities } = await import('../../config/coverage.js');
      for (const u of unsyncedEntities(c)) ctx.out(`warning [${u.code}]: entities.${u.entity}: ${u.message}`);
      if (opts.sample === undefined) return;
      const { sampleCheck } = await import('../../sync/sample-check.js');
      const report = await sampleCheck(loaded, opts.sample);
      const lines = [`sample: ${report.rows} rows of ${report.checked.length} mapped tables (${report.checked.join(', ') || 'none'})`];
      for (const p of report.problems) {
        lines.push(
          `  refused: ${p.entity}.${p.field} from ${p.source}${p.column ? ` (${p.column})` : ''}: ${p.rows} of the sampled rows ${p.problem}; e.g. ${p.examples.join(', ')}`,
        );
      }
      if (report.problems.length > 0) {
        lines.push('  these rows would be parked by the sync: fix the mapping (a `map:` of codes for an enum, a transform, another column) or the data');
      }
      ctx.out(lines.join('\n'));
      if (report.problems.length > 0) throw new ExitCode(EXIT.usage);
    });

  config
    .command('schema')
    .description('Print the JSON Schema of crmlink.yaml (for editor completion)')
    .action(async () => ctx.out(JSON.stringify((await import('../../config/json-schema.js')).configJsonSchema(), null, 2)));

  config
    .command('docs')
    .description('Print the config reference in Markdown (docs/config.md)')
    .action(async () => ctx.out((await import('../../config/docs.js')).configReferenceMarkdown()));
}
