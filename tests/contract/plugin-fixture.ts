/**
 * A connector plugin as a third party would publish it: an npm package
 * (`@acme/crmlink-connector-json`) in a project's node_modules, plain JavaScript, depending on
 * nothing of crmlink. It reads a JSON file of rows, pushes down only `eq` and `in` (crmlink filters
 * the rest) and captures by row hash. Written to a temporary project directory by the tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PLUGIN_NAME = '@acme/crmlink-connector-json';

const SOURCE = String.raw`
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

class JsonConnector {
  constructor(name, file) {
    this.name = name;
    this.kind = '@acme/crmlink-connector-json';
    this.file = file;
    this.capabilities = { write: false, transactions: false, filters: ['eq', 'in'], capture: ['hash'], aggregate: false, nullsAscending: 'first' };
  }
  load() { return JSON.parse(readFileSync(this.file, 'utf8')); }
  rows(table) {
    const t = this.load()[table];
    if (!t) { const e = new Error('no table "' + table + '" in ' + this.file); e.code = 'MAPPING_INVALID'; throw e; }
    return t.rows;
  }
  async test() { this.load(); return { ok: true, dialect: this.kind, latencyMs: 0 }; }
  async introspect(opts = {}) {
    const all = this.load();
    return Object.entries(all).filter(([n]) => !opts.table || n === opts.table).map(([name, t]) => ({
      schema: null, name, primaryKey: t.key, uniqueKeys: [], comment: null,
      columns: Object.keys(t.rows[0] ?? {}).map((c) => ({ name: c, type: 'json', nullable: true, maxLength: null, precision: null, scale: null, autoIncrement: false, defaultValue: null, comment: null })),
    }));
  }
  match(row, w) {
    if (!w) return true;
    if (w.and) return w.and.every((x) => this.match(row, x));
    if (w.or) return w.or.some((x) => this.match(row, x));
    if (w.not) return !this.match(row, w.not);
    if (w.op === 'eq') return row[w.column] === w.value;
    if (w.op === 'in') return w.value.includes(row[w.column]);
    throw new Error('cannot filter with ' + w.op);
  }
  async select(spec) {
    let rows = this.rows(spec.table).filter((r) => this.match(r, spec.where));
    const ord = spec.orderBy ?? [];
    const cmp = (a, b) => { for (const o of ord) { const x = a[o.column], y = b[o.column]; if (x === y) continue; const c = x == null ? -1 : y == null ? 1 : x < y ? -1 : 1; return o.direction === 'desc' ? -c : c; } return 0; };
    rows = [...rows].sort(cmp);
    if (spec.after) { const a = Object.fromEntries(ord.map((o, i) => [o.column, spec.after[i]])); rows = rows.filter((r) => cmp(r, a) > 0); }
    rows = rows.slice(spec.offset ?? 0, spec.limit === undefined ? undefined : (spec.offset ?? 0) + spec.limit);
    return rows.map((r) => Object.fromEntries(spec.columns.map((c) => [c, r[c] ?? null])));
  }
  async *readPages(opts) {
    let after = opts.after;
    for (;;) {
      opts.signal?.throwIfAborted();
      const cols = opts.columns ?? Object.keys(this.rows(opts.table)[0] ?? {});
      const page = await this.select({ table: opts.table, columns: [...new Set([...cols, ...opts.key])], where: opts.where, orderBy: opts.key.map((c) => ({ column: c, direction: 'asc' })), after, limit: opts.pageSize ?? 1000 });
      if (!page.length) return;
      yield page;
      after = opts.key.map((k) => page[page.length - 1][k]);
      if (page.length < (opts.pageSize ?? 1000)) return;
    }
  }
  async aggregate() { throw new Error('aggregate is not supported'); }
  async changesSince(spec, cp, opts = {}) {
    const size = opts.pageSize ?? 1000;
    const rows = await this.select({ table: spec.table, columns: spec.columns, orderBy: spec.key.map((c) => ({ column: c, direction: 'asc' })), after: cp?.after ?? undefined, limit: size + 1 });
    const hasMore = rows.length > size;
    const page = rows.slice(0, size);
    const changes = page.map((row) => ({ key: spec.key.map((k) => row[k]), op: 'upsert', row, changedAt: null, hash: createHash('sha256').update(JSON.stringify(spec.columns.map((c) => row[c]))).digest('hex') }));
    const last = page[page.length - 1];
    return { changes, checkpoint: { strategy: 'hash', after: hasMore ? spec.key.map((k) => last[k]) : null }, hasMore, snapshot: true };
  }
  async upsert() { throw Object.assign(new Error('source "' + this.name + '" is read-only'), { code: 'WRITE_FORBIDDEN' }); }
  async delete() { throw Object.assign(new Error('source "' + this.name + '" is read-only'), { code: 'WRITE_FORBIDDEN' }); }
  async destroy() {}
}

export default {
  apiVersion: 1,
  create({ name, source, baseDir }) {
    return new JsonConnector(name, resolve(baseDir, String(source.settings?.file ?? 'rows.json')));
  },
};
`;

/** Install the plugin package under `projectDir`/node_modules. */
export function installPlugin(projectDir: string, opts: { apiVersion?: number } = {}): void {
  const dir = join(projectDir, 'node_modules', '@acme', 'crmlink-connector-json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: PLUGIN_NAME, version: '1.0.0', type: 'module', exports: './index.js' }));
  writeFileSync(join(dir, 'index.js'), opts.apiVersion === undefined ? SOURCE : SOURCE.replace('apiVersion: 1', `apiVersion: ${opts.apiVersion}`));
}
