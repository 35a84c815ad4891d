/**
 * `crmlink mapping scaffold NAME --table T --entity E [--table T2 --entity E2 ...]`: the config file
 * with a mapping per table guessed from the column names (Yonyou-style cCusCode, Kingdee-style
 * FNUMBER, snake_case) under one `entities:` block, each entity with its `mode` and a pull job,
 * every guess commented for the ERP team to review. What it prints passes `config check` as it
 * stands; the file's own keys, comments and ${VAR}s are kept.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CrmlinkError } from '../../core/errors.js';
import type { SourceSet } from '../../connectors/registry.js';
import type { EntityName } from '../../model/entities.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { outputOf } from '../context.js';
import type { SourcesContext } from './sources.js';
import { configCommand } from '../options.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function register(program: Command, ctx: SourcesContext): void {
  const { out, err } = outputOf(ctx);
  const mapping = program.command('mapping').description('Write mappings from what the source databases hold');

  configCommand(mapping, 'scaffold', 'Print the config file with a mapping per table guessed from its column names (one entities: block, a mode and a pull job per entity), ready for `config check`')
    .argument('<name>', 'source name')
    .requiredOption('-t, --table <table>', 'source table (repeat with --entity for several tables)', collect)
    .requiredOption('-e, --entity <entity>', 'CRM entity the table before it maps, e.g. Customer', collect)
    .option('-s, --schema <schema>', 'schema (PostgreSQL / SQL Server)')
    .option('-o, --out <file>', 'write the config to this file instead of printing it')
    .action(async (name: string, opts: { table: string[]; entity: string[]; schema?: string; out?: string; config?: string }) => {
      // The model, the YAML library and the guesses load when the command runs, not for --help.
      const { MODEL, isEntityName } = await import('../../model/entities.js');
      const { addScaffold, configDocument } = await import('../mapping-scaffold.js');
      const unknown = opts.entity.filter((e) => !isEntityName(e));
      if (unknown.length > 0) {
        err(`unknown entity ${unknown.map((e) => `"${e}"`).join(', ')} (one of ${Object.keys(MODEL).join(', ')})`);
        throw new ExitCode(EXIT.usage);
      }
      if (opts.table.length !== opts.entity.length) {
        err(`give one --entity per --table (${opts.table.length} tables, ${opts.entity.length} entities)`);
        throw new ExitCode(EXIT.usage);
      }
      const loaded = await ctx.loadConfig(opts);
      const { SourceSet } = await import('../../connectors/registry.js');
      let set: SourceSet;
      try {
        set = SourceSet.open(loaded, { only: [name] });
      } catch (e) {
        if (e instanceof CrmlinkError && e.code === 'SOURCE_UNKNOWN') {
          err(`error [${e.code}]: ${e.message}`);
          throw new ExitCode(EXIT.usage);
        }
        throw e;
      }
      try {
        const { DEFAULT_RULES, describeMatching } = await import('../../identity/index.js');
        const doc = configDocument(loaded.file);
        for (let i = 0; i < opts.table.length; i++) {
          const [table] = await set.connector(name).introspect({ table: opts.table[i], schema: opts.schema });
          if (!table) {
            err(`table "${opts.table[i]}" not found in source "${name}" (see: crmlink sources introspect ${name})`);
            throw new ExitCode(EXIT.usage);
          }
          addScaffold(doc, name, opts.entity[i] as EntityName, table, describeMatching(DEFAULT_RULES));
        }
        const text = doc.toString({ lineWidth: 0 });
        if (opts.out) {
          writeFileSync(opts.out, text);
          err(`wrote ${opts.out}: review every guessed line, then run crmlink config check --config ${opts.out}`);
        } else out(text.trimEnd());
      } finally {
        await set.destroy();
      }
    });
}
