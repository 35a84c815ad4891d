/**
 * `config check --sample N`: read up to N rows of every mapped table and put each value through
 * the same check the pull applies before the hub (model/validation.ts `canonicalize`), so a mapping
 * that puts a free-text column on an enum field, or a column of dates that are not dates, is
 * refused before the first sync instead of parking rows (or serving values GraphQL cannot).
 */
import type { LoadedConfig } from '../config/load.js';
import { CrmlinkError } from '../core/errors.js';
import { SourceSet, effectiveEntities } from '../connectors/registry.js';
import { fieldsOf, isEntityName } from '../model/entities.js';
import { canonicalize } from '../model/validation.js';

export interface SampleProblem {
  entity: string;
  source: string;
  field: string;
  /** Source column (table.column), when the field maps one column. */
  column: string | null;
  problem: string;
  /** Rows of the sample with this problem. */
  rows: number;
  /** Up to five distinct offending values, as text. */
  examples: string[];
}

export interface SampleReport {
  /** Tables read, as entity/source. */
  checked: string[];
  /** Rows read in all. */
  rows: number;
  problems: SampleProblem[];
}

function shown(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex').slice(0, 32)}`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

export async function sampleCheck(loaded: LoadedConfig, size: number): Promise<SampleReport> {
  const sources = SourceSet.open(loaded);
  const report: SampleReport = { checked: [], rows: 0, problems: [] };
  try {
    for (const [entity, bySource] of Object.entries(effectiveEntities(loaded.config))) {
      if (!isEntityName(entity)) continue;
      const model = new Map(fieldsOf(entity).map((f) => [f.name, f]));
      for (const source of Object.keys(bySource)) {
        const mapping = sources.mapping(entity, source);
        const rows = await sources.driver(source).select({ ...mapping.table, columns: mapping.columns, where: mapping.filter, limit: size });
        report.checked.push(`${entity}/${source}`);
        report.rows += rows.length;
        const found = new Map<string, SampleProblem>();
        const note = (field: string, problem: string, value: unknown) => {
          const column = mapping.fieldColumn(field)?.column;
          const key = `${field}\u0000${problem}`;
          let p = found.get(key);
          if (!p) found.set(key, (p = { entity, source, field, column: column ? `${mapping.table.table}.${column}` : null, problem, rows: 0, examples: [] }));
          p.rows++;
          const s = shown(value);
          if (p.examples.length < 5 && !p.examples.includes(s)) p.examples.push(s);
        };
        for (const row of rows) {
          let record;
          try {
            record = mapping.toRecord(row);
          } catch (err) {
            // The mapping's own transforms refuse some values (a date that is not one): named by field when they say.
            const field = err instanceof CrmlinkError && typeof err.context.field === 'string' ? err.context.field : '(row)';
            const column = field === '(row)' ? undefined : mapping.fieldColumn(field)?.column;
            note(field, 'cannot be read: ' + (err instanceof Error ? err.message : String(err)), column === undefined ? mapping.sourceKey(row) : row[column]);
            continue;
          }
          for (const name of mapping.fields) {
            const field = model.get(name);
            if (!field) continue;
            const { problem } = canonicalize(field, record[name]);
            if (problem !== null) note(name, problem, record[name] ?? null);
          }
        }
        report.problems.push(...found.values());
      }
    }
  } finally {
    await sources.destroy();
  }
  return report;
}
