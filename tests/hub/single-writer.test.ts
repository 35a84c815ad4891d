/**
 * The hub store is the only writer of the hub.
 *
 * 1. Statically: no module outside hub/ builds a write (insert, update, delete, merge, upsert,
 *    onConflict, truncate, or raw INSERT / UPDATE / DELETE / MERGE SQL) against a hub table.
 *    The detector is checked on literals first, so it is known to catch what it looks for.
 * 2. Behaviourally: every write path — a pull, a conflict resolution, a merge, an unmerge, and
 *    GraphQL create / update / delete — changes golden records only through the store's golden
 *    record write: every record whose `_version` moved is in the store's change events for that
 *    operation, and the operation left its audit entry.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import type { HubChange } from '../../hub/golden.js';
import { ENTITY_NAMES, MODEL } from '../../model/entities.js';
import { mergeRecords, unmergeRecords } from '../../identity/index.js';
import { resolveConflict, listConflicts } from '../../sync/conflicts.js';
import { runJob } from '../../sync/engine.js';
import { createWorld, seedErp, CODE_A, CODE_B, type World } from '../sync/support.js';
import { createFixture, customerGid, SERVER_AUTH, type Fixture } from '../graphql/fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where hub writes may live, the layers that may do anything (tests, benchmarks), and what is not source (dist/ is the compiled copy of it). */
const ALLOWED = /^(hub|tests|bench|node_modules|dist)\//;

const WRITE_CALL = /\.(insert|update|del|delete|upsert|merge|onConflict|increment|decrement|truncate)\s*\(/;
const WRITE_SQL = /\b(INSERT\s+INTO|UPDATE\s+["\w.]+\s+(AS\s+\w+\s+)?SET|DELETE\s+FROM|MERGE\s+INTO|TRUNCATE\s+TABLE)\b/i;
/** Expressions that name a hub table. */
const HUB_TABLE = /\bSYSTEM_TABLES\b|\bSYNC_TABLES\b|\bT\.\w+|\bcrm_\w+|\bhub\.table\(|\bMODEL\[[^\]]+\]\.table\b/;

/** Statements of a TypeScript file that write a hub table. */
export function hubWrites(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  // Variables holding a hub table: `const table = hub.table(entity)`.
  const tainted = new Set<string>();
  for (const m of code.matchAll(/\b(?:const|let|var)\s+(\w+)\s*=\s*([^;\n]+)/g)) if (HUB_TABLE.test(m[2])) tainted.add(m[1]);
  const viaVariable = tainted.size === 0 ? null : new RegExp(`\\w\\(\\s*(${[...tainted].join('|')})\\s*\\)`);
  return code
    .split(/;|\n\s*\n/)
    .filter((s) => (WRITE_CALL.test(s) || WRITE_SQL.test(s)) && (HUB_TABLE.test(s) || (viaVariable?.test(s) ?? false)))
    .map((s) => s.trim().replace(/\s+/g, ' ').slice(0, 160));
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const rel = relative(ROOT, path);
    if (name.startsWith('.') || ALLOWED.test(`${rel}/`)) continue;
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('no module outside hub/ writes the hub', () => {
  it('the detector finds writes to hub tables and passes reads and other writes', () => {
    expect(hubWrites(`await trx(T.xref).insert(row).onConflict(['a']).ignore();`)).toHaveLength(1);
    expect(hubWrites(`await trx(SYSTEM_TABLES.provenance)\n  .where({ entity })\n  .delete();`)).toHaveLength(1);
    expect(hubWrites(`const table = hub.table(entity);\nawait trx(table).where(C.id, gid).update({ name });`)).toHaveLength(1);
    expect(hubWrites(`await knex.raw('UPDATE crm_customer SET name = ? WHERE id = ?', [n, id]);`)).toHaveLength(1);
    expect(hubWrites(`await q('crm_audit').insert({ at });`)).toHaveLength(1);
    expect(hubWrites(`const rows = await trx(T.xref).where({ entity }).select('gid');`)).toEqual([]);
    expect(hubWrites(`const table = hub.table(entity);\nconst rows = await trx(table).whereIn(C.id, ids);`)).toEqual([]);
    expect(hubWrites(`createHash('sha256').update(body).digest('hex'); items.delete(key);`)).toEqual([]);
    expect(hubWrites(`await db('Customer').insert(rows); // a demo source, not the hub`)).toEqual([]);
  });

  it('finds none in the source tree', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) for (const w of hubWrites(readFileSync(file, 'utf8'))) found.push(`${relative(ROOT, file)}: ${w}`);
    expect(found).toEqual([]);
  });
});

/** id → _version of every golden record of every entity. */
async function versions(app: App): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of ENTITY_NAMES) {
    for (const r of (await app.hub.knex(MODEL[e].table).select('id', '_version')) as { id: string; _version: unknown }[]) out.set(`${e}:${r.id}`, Number(r._version));
  }
  return out;
}

/**
 * Run `fn` and check that every golden record it created or changed was written by the store's
 * golden record write (announced to onChange), with `action`; returns the ids written.
 */
async function throughStore(app: App, action: string, fn: () => Promise<unknown>): Promise<string[]> {
  const before = await versions(app);
  const auditBefore = Number((await app.hub.knex('crm_audit').count({ n: '*' }))[0].n);
  const events: HubChange[] = [];
  app.hub.store.onChange = (c) => events.push(c);
  try {
    await fn();
  } finally {
    app.hub.store.onChange = null;
  }
  const after = await versions(app);
  const moved = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k).sort();
  const announced = [...new Set(events.flatMap((e) => e.records.map((r) => `${e.entity}:${r.id}`)))].sort();
  expect(moved.length).toBeGreaterThan(0);
  expect(announced).toEqual(moved);
  expect(events.map((e) => e.action)).toContain(action);
  for (const [k, v] of after) if (before.has(k) && before.get(k) !== v) expect(v, k).toBeGreaterThan(before.get(k)!);
  const audit = (await app.hub.knex('crm_audit').where('id', '>', auditBefore).select('action')) as { action: string }[];
  expect(audit.map((a) => a.action)).toContain(action);
  return moved;
}

describe('every write path goes through the store', () => {
  let world: World | null = null;
  let fixture: Fixture | null = null;
  afterEach(async () => {
    await world?.close();
    await fixture?.close();
    world = null;
    fixture = null;
  });

  it('pull, conflict resolution, merge and unmerge', async () => {
    world = await createWorld({ label: 'writer' });
    await seedErp(world.erp, [
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' },
      { code: 'C002', name: 'Acme Trading', creditCode: CODE_B, phone: '010-2' },
    ]);
    const app = await world.open();
    const pulled = await throughStore(app, 'sync', () => runJob(app, 'customers'));
    expect(pulled).toHaveLength(2);

    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '111' });
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '222' });
    await runJob(app, 'customers');
    const [conflict] = await listConflicts(app, { entity: 'Customer' });
    expect(conflict).toMatchObject({ field: 'phone', status: 'open' });
    await throughStore(app, 'resolve-conflict', () => resolveConflict(app, conflict.id, { keep: 'finance', actor: 'alice' }));

    const [a, b] = (await app.hub.knex('crm_customer').orderBy('code').pluck('id')) as string[];
    const merged = await throughStore(app, 'merge', () => mergeRecords(app.hub, { survivor: a, merged: b, actor: 'bob' }));
    expect(merged).toEqual([`Customer:${a}`, `Customer:${b}`].sort());
    await throughStore(app, 'unmerge', () => unmergeRecords(app.hub, { merged: b, actor: 'bob' }));
  });

  it('GraphQL create, update and delete', async () => {
    fixture = await createFixture({ customers: 2, server: SERVER_AUTH });
    const f = fixture;
    const admin = { 'x-api-key': 'admin-key-0123456789' };
    let id = '';
    await throughStore(f.app, 'create', async () => {
      const r = await f.gql(`mutation { createCustomer(input: { name: "Through the store" }) { id } }`, {}, admin);
      expect(r.errors).toBeUndefined();
      id = r.data.createCustomer.id;
    });
    await throughStore(f.app, 'update', async () => {
      const r = await f.gql(`mutation($id: ID!) { updateCustomer(id: $id, input: { city: "Ningbo" }) { version } }`, { id: customerGid(1) }, admin);
      expect(r.errors).toBeUndefined();
    });
    await throughStore(f.app, 'delete', async () => {
      const r = await f.gql(`mutation($id: ID!) { deleteCustomer(id: $id) { deleted } }`, { id }, admin);
      expect(r.errors).toBeUndefined();
    });
  });
});
