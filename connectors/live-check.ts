/**
 * Every table and column a mapping names, checked against what the source holds (`config check`
 * without --offline): a misspelled column is found before a dry run, with the nearest name the
 * table has. A source that cannot be reached is a warning: the file may still be right.
 */
import { suggestionList } from 'graphql/jsutils/suggestionList.js';
import type { CrmlinkConfig, EntitySourceConfig, FieldMapping, RowCondition } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import type { SourceSet } from './registry.js';
import type { TableInfo } from './types.js';

export interface LiveProblem {
  /** Config path of the name, e.g. `entities.Customer.sources.erp.fields.name.column`. */
  path: string;
  message: string;
}

export interface LiveCheck {
  problems: LiveProblem[];
  /** Sources that could not be reached (not checked), with why. */
  unreachable: { source: string; message: string }[];
  /** `source.table` of every table checked. */
  checked: string[];
}

/** A column named by a mapping, and where. */
interface NamedColumn {
  column: string;
  path: string;
}

/** Engines whose unquoted and quoted identifiers match whatever their case. */
const CASE_INSENSITIVE = new Set(['mssql', 'mysql', 'sqlite', 'access', 'xlsx', 'csv']);

export async function checkMappingsLive(config: CrmlinkConfig, sources: SourceSet, opts: { skip?: ReadonlySet<string>; timeoutMs?: number } = {}): Promise<LiveCheck> {
  const result: LiveCheck = { problems: [], unreachable: [], checked: [] };
  const bySource = new Map<string, { entity: string; mapping: EntitySourceConfig }[]>();
  for (const [entity, e] of Object.entries(config.entities)) {
    for (const [source, mapping] of Object.entries(e?.sources ?? {})) {
      if (!Object.prototype.hasOwnProperty.call(config.sources, source) || opts.skip?.has(source)) continue;
      bySource.set(source, [...(bySource.get(source) ?? []), { entity, mapping }]);
    }
  }
  const timeoutMs = opts.timeoutMs ?? 15_000;
  await Promise.all(
    [...bySource].map(async ([source, mappings]) => {
      const src = config.sources[source];
      const caseInsensitive = CASE_INSENSITIVE.has(src.dialect ?? src.connector ?? '');
      const controller = new AbortController();
      const signal = controller.signal;
      const check = async (): Promise<LiveProblem[]> => {
        const problems: LiveProblem[] = [];
        const connector = sources.connector(source);
        let allTables: string[] | undefined;
        for (const { entity, mapping } of mappings) {
          const at = `entities.${entity}.sources.${source}`;
          const schema = mapping.schema ?? src.connection.schema;
          const [table] = await connector.introspect({ table: mapping.table, schema, signal });
          if (!table) {
            allTables ??= (await connector.introspect({ schema, signal })).map((t) => t.name);
            const sameButCase = caseInsensitive && allTables.some((t) => t.toLowerCase() === mapping.table.toLowerCase());
            if (!sameButCase) problems.push({ path: `${at}.table`, message: `table "${mapping.table}" not found in source "${source}"${didYouMean(mapping.table, allTables)}` });
            continue;
          }
          result.checked.push(`${source}.${table.name}`);
          checkColumns(table, namedColumns(mapping, at), caseInsensitive, source, problems);
        }
        return problems;
      };
      // A host that drops packets would hold the check for the driver's own connect timeout.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`no answer within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      });
      try {
        result.problems.push(...(await Promise.race([check(), timeout])));
      } catch (err) {
        if (err instanceof CrmlinkError && (err.code === 'CONFIG_INVALID' || err.code === 'MAPPING_INVALID')) throw err;
        result.unreachable.push({ source, message: err instanceof Error ? err.message.split('\n')[0] : String(err) });
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  result.problems.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}

function checkColumns(table: TableInfo, named: NamedColumn[], caseInsensitive: boolean, source: string, out: LiveProblem[]): void {
  const names = table.columns.map((c) => c.name);
  const has = (c: string) => names.includes(c) || (caseInsensitive && names.some((n) => n.toLowerCase() === c.toLowerCase()));
  for (const { column, path } of named) {
    if (!has(column)) out.push({ path, message: `column "${column}" not found in ${source}.${table.name}${didYouMean(column, names)}` });
  }
}

function didYouMean(name: string, candidates: readonly string[]): string {
  const near = suggestionList(name, [...candidates]).slice(0, 3);
  return near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : '';
}

/** Every column a mapping names, with the config path that names it. */
export function namedColumns(m: EntitySourceConfig, at: string): NamedColumn[] {
  const out: NamedColumn[] = [];
  const add = (column: string, path: string) => out.push({ column, path });
  m.key.forEach((c, i) => add(c, `${at}.key.${i}`));
  for (const c of Object.keys(m.filter ?? {})) add(c, `${at}.filter.${c}`);
  if (m.changes.column) add(m.changes.column, `${at}.changes.column`);
  if (m.delete.column) add(m.delete.column, `${at}.delete.column`);
  for (const [field, raw] of Object.entries(m.fields)) {
    const p = `${at}.fields.${field}`;
    if (typeof raw === 'string') {
      add(raw, p);
      continue;
    }
    const fm: FieldMapping = raw;
    if (fm.column !== undefined) add(fm.column, `${p}.column`);
    fm.columns?.forEach((c, i) => add(c, `${p}.columns.${i}`));
    if (fm.split) add(fm.split.column, `${p}.split.column`);
    fm.cases?.forEach((c, i) => conditionColumns(c.when).forEach((col) => add(col, `${p}.cases.${i}.when.${col}`)));
    if (fm.negate) conditionColumns(fm.negate).forEach((col) => add(col, `${p}.negate.${col}`));
  }
  return out;
}

function conditionColumns(c: RowCondition): string[] {
  return Object.keys(c);
}
