/**
 * Access files through the access connector: every format of the vendored fixtures
 * (tests/fixtures/access, from mdb-reader's test data), types, passwords from the environment,
 * clear errors naming the file, read-only, change detection by replacing one file with another,
 * and a sync pull of an Access table into the hub, deletes included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnector, SourceSet } from '../../connectors/registry.js';
import { parseConfig } from '../../config/load.js';
import { sourceSchema } from '../../config/schema.js';
import { CrmlinkError } from '../../core/errors.js';
import type { Connector } from '../../connectors/connector.js';
import type { Checkpoint, ChangeBatch, Row } from '../../connectors/driver.js';
import { openApp, closeApp, type App } from '../../app/app.js';
import { runJob } from '../../sync/engine.js';
import { silentLogger } from '../../core/logger.js';
import { createYogaApp } from '../../server/yoga-app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'access');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-access-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A connector on a copy of a fixture (so a test can replace or damage it). */
function open(fixture: string, extra: { password?: string; as?: string } = {}): Connector {
  const file = extra.as ?? fixture;
  copyFileSync(join(FIXTURES, fixture), join(dir, file));
  const source = sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: file, ...(extra.password !== undefined ? { password: extra.password } : {}) } });
  return createConnector('ledger', source, { baseDir: dir });
}

async function all(c: Connector, table: string, key: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const page of c.readPages({ table, key })) rows.push(...page);
  return rows;
}

async function failure(p: Promise<unknown>): Promise<CrmlinkError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CrmlinkError);
  return err as CrmlinkError;
}

describe('Access formats and types', () => {
  it.each([
    ['jet3-access97.mdb', 'Access 97 (Jet 3)'],
    ['ace-access2007.accdb', 'Access 2007 (ACE 12)'],
    ['ace-access2010.accdb', 'Access 2010 (ACE 14)'],
  ])('%s: Table1 with text, integers, double, date, currency and yes/no', async (fixture, version) => {
    const c = open(fixture);
    const h = await c.test();
    expect(h.ok).toBe(true);
    expect(h.version).toContain(version);
    const [info] = await c.introspect({ table: 'Table1' });
    const types = Object.fromEntries(info.columns.map((col) => [col.name, `${col.type}:${col.crmType}`]));
    expect(types).toEqual({ A: 'text:string', B: 'text:string', C: 'byte:int', D: 'integer:int', E: 'long:int', F: 'double:decimal', G: 'datetime:datetime', H: 'currency:decimal', I: 'boolean:boolean' });
    const rows = await c.select({ table: 'Table1', columns: ['A', 'E', 'F', 'G', 'H', 'I'], orderBy: [{ column: 'A', direction: 'asc' }] });
    // Dates come as the wall clock Access stores (no zone); currency as exact text.
    expect(rows).toEqual([
      { A: 'a', E: 0, F: 0, G: '1981-12-12 00:00:00', H: '0.0000', I: false },
      { A: 'abcdefg', E: 333333333, F: 444.555, G: '1974-09-21 00:00:00', H: '3.5000', I: true },
    ]);
    await c.destroy();
  });

  it('currency is exact, bigint an integer, long text whole, Access 2003 numeric exact', async () => {
    expect(await all(open('currency.accdb'), 'Table', ['ID'])).toEqual([{ ID: 1, Money: '42.0000' }]);
    const big = open('bigint.accdb');
    expect(await all(big, 'Table', ['ID'])).toEqual([{ ID: 1, Numeric: 42 }]);
    expect((await big.introspect({ table: 'Table' }))[0].columns.find((c) => c.name === 'Numeric')?.crmType).toBe('int');
    const long = open('longtext.accdb');
    const [row] = await all(long, 'Table1', ['ID']);
    expect(String(row.LongText).length).toBeGreaterThan(255);
    expect((await long.introspect({ table: 'Table1' }))[0].columns.find((c) => c.name === 'LongText')?.crmType).toBe('text');
    const numeric = open('numeric-access2003.mdb');
    const [info] = await numeric.introspect({ table: 'test' });
    expect(info.columns.find((c) => c.name === 'col2')).toMatchObject({ type: 'numeric', precision: 18, scale: 0, crmType: 'decimal' });
    expect((await all(numeric, 'test', ['col1']))[0]).toMatchObject({ col2: '1', col6: '-1' });
  });

  it('attachments are skipped with a notice; an AutoNumber column is the key', async () => {
    const c = open('attachments.accdb');
    const [info] = await c.introspect({ table: 'Table1' });
    expect(info.columns.map((col) => col.name)).toEqual(['ID', 'Comment']);
    expect(info.primaryKey).toEqual(['ID']);
    expect(info.notices).toEqual(['column "Attachments" (attachment) skipped: binary data has no CRM field']);
    expect((await all(c, 'Table1', ['ID'])).map((r) => r.Comment)).toEqual(['0 Attachments', '1 Attachment', '3 Attachments']);
  });

  it('reads the 65-row asset register in pages, filtered and aggregated', async () => {
    const c = open('asset-items.accdb');
    const pages: Row[][] = [];
    for await (const page of c.readPages({ table: 'Asset Items', key: ['Asset No'], pageSize: 20, columns: ['Asset No', 'Cost'] })) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([20, 20, 20, 5]);
    const [sum] = await c.aggregate({ table: 'Asset Items', aggregates: [{ fn: 'count', as: 'n' }, { fn: 'max', column: 'Acquired', as: 'latest' }] });
    expect(sum.n).toBe(65);
    const hardware = await c.select({ table: 'Asset Items', columns: ['Asset No'], where: { column: 'Asset Category', op: 'eq', value: 'Computer Hardware' } });
    expect(hardware.length).toBeGreaterThan(0);
    expect(hardware.length).toBeLessThan(65);
  });
});

describe('Access errors name the file, the table, the column, the setting', () => {
  it('a missing file', async () => {
    const c = createConnector('ledger', sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: 'nowhere.accdb' } }), { baseDir: dir });
    const h = await c.test();
    expect(h.ok).toBe(false);
    expect(h.error?.code).toBe('SOURCE_DATABASE_UNKNOWN');
    expect(h.error?.message).toContain(join(dir, 'nowhere.accdb'));
    expect(h.error?.message).toContain('sources.ledger.connection.filename');
  });

  it('a file that is not Access, and a truncated one', async () => {
    writeFileSync(join(dir, 'notes.accdb'), 'these are meeting notes, not a database\n'.repeat(200));
    const notAccess = createConnector('ledger', sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: 'notes.accdb' } }), { baseDir: dir });
    const e1 = await failure(notAccess.introspect());
    expect(e1.code).toBe('SOURCE_DATABASE_UNKNOWN');
    expect(e1.message).toMatch(/is not an Access database/);
    expect(e1.message).toContain('notes.accdb');
    writeFileSync(join(dir, 'cut.accdb'), readFileSync(join(FIXTURES, 'asset-items.accdb')).subarray(0, 8192));
    const cut = createConnector('ledger', sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: 'cut.accdb' } }), { baseDir: dir });
    const e2 = await failure(cut.introspect());
    expect(e2.code).toBe('SOURCE_DATABASE_UNKNOWN');
    expect(e2.message).toMatch(/damaged or truncated/);
    expect(e2.message).toContain('cut.accdb');
  });

  it('a file Access has open (its lock file beside it) that reads as damaged: LOCKED, retried on the next run', async () => {
    for (const [name, lock] of [['open.accdb', 'open.laccdb'], ['open.mdb', 'open.ldb']]) {
      const fixture = name.endsWith('.mdb') ? 'numeric-access2003.mdb' : 'asset-items.accdb';
      writeFileSync(join(dir, name), readFileSync(join(FIXTURES, fixture)).subarray(0, 8192));
      writeFileSync(join(dir, lock), '');
      const c = createConnector('ledger', sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: name } }), { baseDir: dir });
      const e = await failure(c.introspect());
      expect(e.code).toBe('LOCKED');
      expect(e.transient).toBe(true);
      expect(e.message).toContain(lock);
      expect(e.message).toContain(join(dir, name));
      // Access closed (lock file gone): the same bytes are a damaged file, not a lock.
      rmSync(join(dir, lock));
      expect((await failure(c.introspect())).code).toBe('SOURCE_DATABASE_UNKNOWN');
    }
  });

  it('a file crmlink may not read: SOURCE_AUTH_FAILED naming the file and what to check', async () => {
    // Root reads any file, so when the test runs as root the read runs in a child process that loads
    // crmlink as root (the checkout may sit in a folder only root can enter) and then becomes "nobody".
    const sub = mkdtempSync(join(tmpdir(), 'crmlink-access-perm-'));
    try {
      chmodSync(sub, 0o755);
      const file = join(sub, 'ledger.accdb');
      copyFileSync(join(FIXTURES, 'asset-items.accdb'), file);
      chmodSync(file, 0o000);
      let outcome: { code: string; message: string };
      if (process.getuid?.() === 0) {
        const root = join(import.meta.dirname, '..', '..');
        const script = [
          `const { createConnector } = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'connectors', 'registry.js')).href)});`,
          `const { sourceSchema } = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'config', 'schema.js')).href)});`,
          `const c = createConnector('ledger', sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: ${JSON.stringify(file)} } }), { baseDir: '/' });`,
          'process.setgid(65534); process.setuid(65534);',
          `try { await c.introspect(); console.log(JSON.stringify({ code: 'none', message: '' })); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`,
        ].join('\n');
        const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: sub });
        expect(run.stderr).toBe('');
        outcome = JSON.parse(run.stdout) as { code: string; message: string };
      } else {
        const c = createConnector('ledger', sourceSchema.parse({ kind: 'erp', connector: 'access', connection: { filename: file } }), { baseDir: '/' });
        outcome = await failure(c.introspect());
      }
      expect(outcome.code).toBe('SOURCE_AUTH_FAILED');
      expect(outcome.message).toContain(file);
      expect(outcome.message).toContain('check its permissions');
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it.each(['password-access2003.mdb', 'password-access2010.accdb', 'encrypted-agile.accdb'])('%s: opens with the password, refuses a wrong or missing one', async (fixture) => {
    expect((await all(open(fixture, { password: 'password' }), 'Table1', ['ID'])).map((r) => r.Data)).toEqual(['One', 'Two', 'Three']);
    const wrong = await failure(open(fixture, { password: 'letmein' }).introspect());
    expect(wrong.code).toBe('SOURCE_AUTH_FAILED');
    expect(wrong.message).toContain('wrong password');
    expect(wrong.message).toContain(fixture);
    expect(wrong.message).toContain('sources.ledger.connection.password');
    const none = await failure(open(fixture).introspect());
    expect(none.code).toBe('SOURCE_AUTH_FAILED');
    expect(none.message).toMatch(/password-protected/);
  });

  it('the password comes from the environment through ${VAR}', async () => {
    copyFileSync(join(FIXTURES, 'password-access2010.accdb'), join(dir, 'env.accdb'));
    const yaml = `
hub: { dialect: sqlite, connection: { filename: hub.db } }
sources:
  ledger: { kind: erp, connector: access, connection: { filename: env.accdb, password: "\${LEDGER_PASSWORD}" } }
`;
    const set = SourceSet.open(parseConfig(yaml, { env: { LEDGER_PASSWORD: 'password' }, baseDir: dir }));
    expect((await set.connector('ledger').test()).ok).toBe(true);
    await set.destroy();
  });

  it('an unknown table and an unknown column', async () => {
    const c = open('asset-items.accdb');
    const t = await failure(c.select({ table: 'Customers', columns: ['id'] }));
    expect(t.code).toBe('MAPPING_INVALID');
    expect(t.message).toContain('no table "Customers" (tables: Asset Items)');
    expect(t.message).toContain('asset-items.accdb');
    const col = await failure(c.select({ table: 'Asset Items', columns: ['Asset No', 'Price'] }));
    expect(col.message).toContain('table "Asset Items" has no column "Price"');
    expect(col.context).toMatchObject({ table: 'Asset Items', column: 'Price' });
  });

  it('is read-only: a write names the source, the file and the reason', async () => {
    const c = open('asset-items.accdb');
    expect(c.capabilities.write).toBe(false);
    const e = await failure(c.upsert([{ 'Asset No': '1' }], { table: 'Asset Items', key: ['Asset No'] }));
    expect(e.code).toBe('WRITE_FORBIDDEN');
    expect(e.message).toContain('source "ledger" is read-only');
    expect(e.message).toContain('asset-items.accdb');
    expect(e.message).toContain('mdb-reader, which cannot write them');
  });

  it('the config refuses write operations on an Access mapping', () => {
    const yaml = `
hub: { dialect: sqlite, connection: { filename: hub.db } }
sources:
  ledger: { kind: erp, connector: access, connection: { filename: a.accdb } }
entities:
  Product:
    sources:
      ledger: { table: Asset Items, key: [Asset No], write: [update], fields: { code: Asset No, name: Description } }
`;
    expect(() => parseConfig(yaml, { baseDir: dir })).toThrow(/entities\.Product\.sources\.ledger\.write: source "ledger" is an Access file, which crmlink can only read/);
  });
});

describe('Access change capture: the file replaced by another', () => {
  const spec = { table: 'Table1', key: ['A'], columns: ['A', 'B', 'E', 'H'], strategy: 'hash' as const, lookBackSeconds: 0 };
  const scan = async (c: Connector, from: Checkpoint | null) => {
    const batches: ChangeBatch[] = [];
    let cp = from;
    for (;;) {
      const b = await c.changesSince(spec, cp, { pageSize: 1 });
      batches.push(b);
      cp = b.checkpoint;
      if (!b.hasMore) return { batches, cp };
    }
  };

  it('an untouched file is not scanned again; the same rows in a new file give the same hashes', async () => {
    const c = open('ace-access2010.accdb', { as: 'ledger.accdb' });
    const first = await scan(c, null);
    expect(first.batches.every((b) => b.snapshot)).toBe(true);
    expect(first.batches.flatMap((b) => b.changes).map((ch) => ch.key)).toEqual([['a'], ['abcdefg']]);
    const again = await scan(c, first.cp);
    expect(again.batches).toEqual([{ changes: [], checkpoint: first.cp, hasMore: false, snapshot: false }]);
    // Another file (Access 2007, other bytes) holding the same rows: a new scan, the same hashes.
    copyFileSync(join(FIXTURES, 'ace-access2007.accdb'), join(dir, 'ledger.accdb'));
    const replaced = await scan(c, again.cp);
    expect(replaced.batches[0].snapshot).toBe(true);
    expect(replaced.batches.flatMap((b) => b.changes).map((ch) => ch.hash)).toEqual(first.batches.flatMap((b) => b.changes).map((ch) => ch.hash));
    expect(replaced.cp).not.toEqual(first.cp);
  });
});

describe('Access in a sync job: pulled into the hub, deletes detected', () => {
  let hubDb: TestDatabase;
  let app: App;
  let work: string;

  beforeAll(async () => {
    hubDb = await createTestDatabase('sqlite', 'accesshub');
    work = mkdtempSync(join(tmpdir(), 'crmlink-access-sync-'));
    copyFileSync(join(FIXTURES, 'asset-items.accdb'), join(work, 'assets.accdb'));
    const yaml = `
hub: { dialect: sqlite, connection: ${JSON.stringify(hubDb.connection)} }
sources:
  assets: { kind: erp, connector: access, connection: { filename: assets.accdb }, timezone: Asia/Shanghai }
entities:
  Product:
    sources:
      assets:
        table: Asset Items
        key: [Asset No]
        fields:
          code: Asset No
          name: { column: Description, default: "-" }
          category: Asset Category
          price: { column: Cost, type: decimal, scale: 2 }
sync:
  jobs:
    products: { entity: Product, sources: [assets], direction: pull }
log: { level: silent }
`;
    app = await openApp(parseConfig(yaml, { baseDir: work }), { logger: silentLogger });
  });
  afterAll(async () => {
    await closeApp(app);
    await hubDb.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls the 65 assets with exact prices; a replaced file with the table gone is an error naming it', async () => {
    const report = await runJob(app, 'products');
    expect(report.status).toBe('ok');
    const rows = await app.hub.knex('crm_product').select('code', 'price').orderBy('code');
    expect(rows.length).toBe(65);
    expect(rows.find((r: { code: string }) => r.code === '30050')?.price).toBe('1995.5');
    // The file replaced by one without the table: the run fails naming file and table; the hub keeps its rows.
    copyFileSync(join(FIXTURES, 'currency.accdb'), join(work, 'assets.accdb'));
    const broken = await runJob(app, 'products');
    expect(broken.status).not.toBe('ok');
    expect(JSON.stringify(broken.error)).toContain('no table \\"Asset Items\\"');
    expect((await app.hub.knex('crm_product').count({ n: '*' }))[0].n).toBe(65);
  });
});

describe('Access in GraphQL: read live, a mutation refused with the reason', () => {
  it('reads assets live from the file; updateProduct is refused naming the source and why', async () => {
    const work = mkdtempSync(join(tmpdir(), 'crmlink-access-gql-'));
    const hubDb = await createTestDatabase('sqlite', 'accessgql');
    copyFileSync(join(FIXTURES, 'asset-items.accdb'), join(work, 'assets.accdb'));
    const yaml = `
hub: { dialect: sqlite, connection: ${JSON.stringify(hubDb.connection)} }
sources:
  assets: { kind: erp, connector: access, connection: { filename: assets.accdb } }
entities:
  Product:
    mode: federated
    owner: assets
    writable: [update]
    sources:
      assets: { table: Asset Items, key: [Asset No], fields: { code: Asset No, name: Description, price: { column: Cost, type: decimal, scale: 2 } } }
server:
  auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, write: true, admin: true } } }
log: { level: silent }
`;
    const gqlApp = await openApp(parseConfig(yaml, { baseDir: work }), { logger: silentLogger });
    const yoga = createYogaApp(gqlApp, { logger: false });
    const gql = async (query: string) => (await (await yoga.fetch('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json()) as { data?: { products?: { totalCount: number; nodes: { id: string; code: string; price: string }[] } }; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      const read = await gql('{ products(where: { code: { eq: "30050" } }) { totalCount nodes { id code price } } }');
      expect(read.errors).toBeUndefined();
      expect(read.data?.products?.nodes).toEqual([{ id: expect.any(String), code: '30050', price: '1995.5' }]);
      const id = read.data?.products?.nodes[0].id;
      const res = await gql(`mutation { updateProduct(id: "${id}", input: { price: "1" }) { id } }`);
      expect(res.errors?.[0].extensions?.code).toBe('WRITE_FORBIDDEN');
      expect(res.errors?.[0].message).toContain('source "assets" is read-only (access: crmlink can read it but not write it)');
    } finally {
      await closeApp(gqlApp);
      await hubDb.drop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
