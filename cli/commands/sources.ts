/**
 * `crmlink sources ...`: check connections, look at a source's tables, and install trigger
 * capture where the ERP team allows schema changes. Exit codes: 0 ok, 1 a source failed,
 * 2 bad usage or config.
 */
import type { Command } from 'commander';
// graphql-js's "did you mean" ranking (lexical distance, case differences cheapest).
import type { LoadedConfig } from '../../config/load.js';
import { CrmlinkError } from '../../core/errors.js';
import type { SourceSet } from '../../connectors/registry.js';
import type { ColumnInfo, TableInfo } from '../../connectors/driver.js';
import type { ForeignKeyInfo } from '../../connectors/types.js';
import { CONFIG_FILE_HELP } from '../options.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { outputOf } from '../context.js';

export interface SourcesContext {
  loadConfig(opts: { config?: string }): Promise<LoadedConfig>;
  out?(text: string): void;
  err?(text: string): void;
}

const CONFIG_OPTION = ['-c, --config <file>', CONFIG_FILE_HELP] as const;

export function register(program: Command, ctx: SourcesContext): void {
  const { out, err } = outputOf(ctx);
  const sources = program.command('sources').description('Test, introspect and prepare the source databases');

  /** Open the sources named on the command line; an unknown name is a usage error (exit 2). */
  const open = async (opts: { config?: string }, only?: string[]): Promise<SourceSet> => {
    const loaded = await ctx.loadConfig(opts);
    // The drivers load with the first command that opens a source, not with `--help`.
    const { SourceSet } = await import('../../connectors/registry.js');
    try {
      return SourceSet.open(loaded, only ? { only } : {});
    } catch (e) {
      if (e instanceof CrmlinkError && e.code === 'SOURCE_UNKNOWN') {
        err(`error [${e.code}]: ${e.message}`);
        throw new ExitCode(EXIT.usage);
      }
      throw e;
    }
  };

  sources
    .command('test')
    .description('Connect to each source (or NAME) and report its health; exit 1 when any fails')
    .argument('[name]', 'source name')
    .option(...CONFIG_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: { config?: string; json?: boolean }) => {
      const set = await open(opts, name ? [name] : undefined);
      try {
        const reports = await Promise.all(set.names().map(async (n) => ({ name: n, report: await set.connector(n).test() })));
        if (opts.json) {
          out(
            JSON.stringify(
              reports.map(({ name: n, report: r }) => ({ name: n, ok: r.ok, dialect: r.dialect, version: r.version, latencyMs: r.latencyMs, error: r.error?.toJSON() })),
              null,
              2,
            ),
          );
        } else {
          for (const { name: n, report: r } of reports) {
            if (r.ok) out(`ok    ${n}  ${r.dialect}  ${firstLine(r.version ?? '')}  ${r.latencyMs} ms`);
            else out(`FAIL  ${n}  ${r.dialect}  [${r.error?.code}] ${r.error?.message}`);
          }
        }
        if (reports.length === 0) err('no sources declared (add them under sources: in the config)');
        if (reports.some((r) => !r.report.ok)) throw new ExitCode(EXIT.failed);
      } finally {
        await set.destroy();
      }
    });

  sources
    .command('introspect')
    .description("Print a source's tables and columns (types, nullability, keys, foreign keys and the tables they reference, comments); exit 2 for an unknown table")
    .argument('<name>', 'source name')
    .option('-t, --table <table>', 'only this table')
    .option('-s, --schema <schema>', 'schema (PostgreSQL / SQL Server)')
    .option(...CONFIG_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { config?: string; table?: string; schema?: string; json?: boolean }) => {
      const set = await open(opts, [name]);
      try {
        const tables = await set.connector(name).introspect({ table: opts.table, schema: opts.schema });
        if (opts.table && tables.length === 0) {
          // Table names are case-sensitive in some dialects: name the near ones (customer for Customer).
          const names = (await set.driver(name).introspect({ schema: opts.schema })).map((t) => t.name);
          const { suggestionList } = await import('graphql/jsutils/suggestionList.js');
          const near = suggestionList(opts.table, names).slice(0, 5);
          err(`table "${opts.table}" not found in source "${name}"${near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : ''}`);
          // A name that is not there is a usage error, like an unknown source.
          throw new ExitCode(EXIT.usage);
        }
        out(opts.json ? JSON.stringify(tables, null, 2) : tables.map(formatTable).join('\n'));
      } finally {
        await set.destroy();
      }
    });

  sources
    .command('install-capture')
    .description('Create crmlink_changelog and the capture triggers for the mappings of NAME that use the trigger strategy (changes the schema: only where allowed)')
    .argument('<name>', 'source name')
    .option('-e, --entity <entity>', 'only this entity (installs even if its strategy is not trigger)')
    .option('--dry-run', 'print the DDL without running it')
    .option('--uninstall', 'drop the capture triggers instead')
    .option(...CONFIG_OPTION)
    .action(async (name: string, opts: { config?: string; entity?: string; dryRun?: boolean; uninstall?: boolean }) => {
      const set = await open(opts, [name]);
      try {
        const entities = opts.entity ? [opts.entity] : set.entitiesOf(name).filter((e) => set.mapping(e, name).capture.strategy === 'trigger');
        if (entities.length === 0) {
          err(`no mapping of source "${name}" uses changes.strategy: trigger (pass --entity to install for one anyway)`);
          throw new ExitCode(EXIT.usage);
        }
        const driver = set.driver(name);
        const { captureDdl, installCapture, uninstallCapture } = await import('../../connectors/capture/index.js');
        for (const entity of entities) {
          const mapping = set.mapping(entity, name);
          if (opts.dryRun) {
            const ddl = captureDdl(driver, mapping);
            out(`-- ${entity}: ${mapping.table.table}\n${(opts.uninstall ? ddl.uninstall : ddl.install).join(';\n\n')};`);
            continue;
          }
          const ran = opts.uninstall ? await uninstallCapture(driver, mapping) : await installCapture(driver, mapping);
          out(`${opts.uninstall ? 'uninstalled' : 'installed'} trigger capture for ${entity} on ${name}.${mapping.table.table} (${ran.length} statements)`);
        }
      } finally {
        await set.destroy();
      }
    });
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

export function formatType(c: ColumnInfo): string {
  if (c.precision !== null && c.scale !== null && /dec|num/i.test(c.type)) return `${c.type}(${c.precision},${c.scale})`;
  if (c.maxLength !== null) return `${c.type}(${c.maxLength})`;
  return c.type;
}

/** The referenced table, with its schema when it is not the table's own. */
function refName(t: TableInfo, fk: ForeignKeyInfo): string {
  return fk.referencedSchema && fk.referencedSchema !== t.schema ? `${fk.referencedSchema}.${fk.referencedTable}` : fk.referencedTable;
}

export function formatTable(t: TableInfo): string {
  const head = `${t.schema ? `${t.schema}.` : ''}${t.name}${t.comment ? `  -- ${t.comment}` : ''}`;
  const width = Math.max(4, ...t.columns.map((c) => c.name.length));
  const lines = t.columns.map((c) => {
    const flags = [
      t.primaryKey.includes(c.name) ? 'PK' : '',
      c.autoIncrement ? 'auto' : '',
      c.nullable ? 'null' : 'not null',
      c.defaultValue !== null ? `default ${c.defaultValue}` : '',
    ].filter(Boolean);
    const refs = (t.foreignKeys ?? []).filter((fk) => fk.columns.length === 1 && fk.columns[0] === c.name);
    for (const fk of refs) flags.push(`FK → ${refName(t, fk)}.${fk.referencedColumns[0]}`);
    return `  ${c.name.padEnd(width)}  ${formatType(c).padEnd(18)}  ${flags.join(', ')}${c.comment ? `  -- ${c.comment}` : ''}`;
  });
  const keys = [
    t.primaryKey.length > 0 ? `  primary key (${t.primaryKey.join(', ')})` : '  (no primary key)',
    ...t.uniqueKeys.map((u) => `  unique (${u.join(', ')})`),
    ...(t.foreignKeys ?? []).map((fk) => `  foreign key (${fk.columns.join(', ')}) references ${refName(t, fk)} (${fk.referencedColumns.join(', ')})${fk.name ? `  -- ${fk.name}` : ''}`),
  ];
  return [head, ...lines, ...keys].join('\n');
}
