/**
 * Key reconcile benchmark (sync/reconcile.ts): what finding hard deletes costs at N source rows.
 *
 *   node --import tsx bench/reconcile.bench.ts [--rows 1000000] [--deleted 1000] [--page 1000]
 *        [--erp postgres|mysql|sqlite] [--hub sqlite|postgres]
 *
 * Setup (not timed): an ERP table `erp_customer` of N rows (cust_code, cust_name, city, phone,
 * updated_at; filled inside the database), a hub whose Customer records, links and live bases
 * name every one of them (written by SQL in bulk, as N synced rows would have left it), then
 * --deleted rows spread over the table hard-deleted in the ERP. The job reads the ERP by
 * timestamp and only pulls (the deletes' push to other systems is the ordinary push, measured by
 * sync.bench.ts).
 *
 * Measured:
 * 1. reconcile: keys checked per second, wall time, peak RSS (sampled every 50 ms) over the
 *    process at start, statements sent to the ERP and to the hub, deletes applied;
 * 2. floor: one full keyset read of the same table through the same driver (every column, pages
 *    of 1000): what a hash capture's scan reads at least; the ratio reconcile / full read;
 * 3. quiet reconcile: the same again, nothing deleted since (what the nightly tick costs).
 *
 * Prints one JSON object. Needs PostgreSQL / MariaDB on 127.0.0.1 for those engines (PG_URL, MYSQL_URL).
 */
import { performance } from 'node:perf_hooks';
import { flags, machine, round, RssSampler, statementCounter } from './lib/common.js';
import { TEST_ERP_CUSTOMERS } from '../tests/support/test-erp.js';

process.env.NODE_ENV ??= 'production';
const f = flags();

async function main(): Promise<void> {
  const { parseConfig } = await import('../config/load.js');
  const { closeApp, openApp } = await import('../app/app.js');
  const { silentLogger } = await import('../core/logger.js');
  const { reconcileJob } = await import('../sync/reconcile.js');
  const { ensureSyncTables } = await import('../hub/sync-tables.js');
  const { createDatabase, openLoader } = await import('./data/generate.js');
  type Dialect = 'postgres' | 'mysql' | 'sqlite';

  const n = f.num('rows', 100_000);
  const deleted = Math.min(n, f.num('deleted', 1000));
  const page = f.num('page', 1000);
  const erpDialect = f.get('erp', 'postgres') as Dialect;
  const hubDialect = f.get('hub', 'sqlite') as 'sqlite' | 'postgres';
  process.stderr.write(`machine: ${JSON.stringify(machine())}\n`);

  const erpDb = await createDatabase(erpDialect, 'recerp');
  const hubDb = await createDatabase(hubDialect, 'rechub');
  let app: Awaited<ReturnType<typeof openApp>> | null = null;
  try {
    const tSeed = performance.now();
    const erp = await openLoader(erpDb);
    const q = (s: string) => (erpDialect === 'mysql' ? `\`${s}\`` : `"${s}"`);
    await erp.exec(`CREATE TABLE ${q('erp_customer')} (${q('cust_code')} varchar(16) NOT NULL PRIMARY KEY, ${q('cust_name')} varchar(200) NOT NULL, ${q('city')} varchar(60), ${q('phone')} varchar(40), ${q('updated_at')} varchar(30))`);
    // Codes C0000001..: zero-padded so text order is numeric order on every engine.
    const cols = `${q('cust_code')}, ${q('cust_name')}, ${q('city')}, ${q('phone')}, ${q('updated_at')}`;
    if (erpDialect === 'postgres') {
      await erp.exec(`INSERT INTO erp_customer (${cols}) SELECT 'C' || lpad(i::text, 7, '0'), '客户' || i || '有限公司', '上海', '021-' || i, '2024-01-01 00:00:00' FROM generate_series(1, ${n}) AS i`);
    } else if (erpDialect === 'mysql') {
      await erp.exec(`INSERT INTO erp_customer (${cols}) SELECT CONCAT('C', LPAD(seq, 7, '0')), CONCAT('客户', seq, '有限公司'), '上海', CONCAT('021-', seq), '2024-01-01 00:00:00' FROM seq_1_to_${n}`);
    } else {
      await erp.exec(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) INSERT INTO erp_customer (${cols}) SELECT 'C' || printf('%07d', i), '客户' || i || '有限公司', '上海', '021-' || i, '2024-01-01 00:00:00' FROM s`);
    }

    const c = (d: { connection: Record<string, unknown> }) => JSON.stringify(d.connection);
    const yaml = `
hub: { dialect: ${hubDialect}, connection: ${c(hubDb)} }
log: { level: silent }
sources:
  erp: { kind: erp, dialect: ${erpDialect}, connection: ${c(erpDb)} }
${TEST_ERP_CUSTOMERS}
        changes: { strategy: timestamp, column: updated_at, lookBackSeconds: 5 }
        fields: { code: cust_code, name: cust_name, city: city, phone: phone }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp], direction: pull, reconcile: { schedule: "0 3 * * *", pageSize: ${page} } }
`;
    app = await openApp(parseConfig(yaml), { logger: silentLogger });
    await ensureSyncTables(app.hub.knex);
    // The hub as N synced rows leave it: a record, a link and a live base per ERP row.
    const hub = app.hub.knex;
    const now = new Date().toISOString();
    const codes = hubDialect === 'postgres' ? `SELECT i, 'C' || lpad(i::text, 7, '0') AS code FROM generate_series(1, ${n}) AS i` : `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i, 'C' || printf('%07d', i) AS code FROM s`;
    const gid = hubDialect === 'postgres' ? `'g' || lpad(i::text, 7, '0')` : `'g' || printf('%07d', i)`;
    const vals = `'{"code":"' || code || '"}'`;
    const falsy = hubDialect === 'postgres' ? 'false' : '0';
    const withCodes = (insert: string, select: string) =>
      hubDialect === 'postgres' ? `${insert} SELECT ${select} FROM (${codes}) AS c` : `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}), c AS (SELECT i, 'C' || printf('%07d', i) AS code FROM s) ${insert} SELECT ${select} FROM c`;
    await hub.raw(withCodes(`INSERT INTO crm_customer (id, code, name, _version, _seq, _updated_at, _deleted)`, `${gid}, code, '客户' || i || '有限公司', 1, i, '${now}', ${falsy}`));
    await hub.raw(withCodes(`INSERT INTO crm_xref (entity, source, source_key, gid, rule, linked_at)`, `'Customer', 'erp', code, ${gid}, NULL, '${now}'`));
    await hub.raw(withCodes(`INSERT INTO crm_base (entity, source, source_key, "values", hash, deleted, changed_at, synced_at)`, `'Customer', 'erp', code, ${vals}, 'h', ${falsy}, NULL, '${now}'`));
    // Hard deletes spread over the table.
    const step = Math.max(1, Math.floor(n / deleted));
    const gone = Array.from({ length: deleted }, (_, i) => `C${String(1 + i * step).padStart(7, '0')}`);
    for (let i = 0; i < gone.length; i += 500) await erp.exec(`DELETE FROM erp_customer WHERE ${q('cust_code')} IN (${gone.slice(i, i + 500).map((g) => `'${g}'`).join(',')})`);
    await erp.close();
    const seedSeconds = round((performance.now() - tSeed) / 1000);

    const { take } = statementCounter(app, ['erp']);

    // 1. reconcile with the deletes
    const rss = new RssSampler(50);
    let t = performance.now();
    const r = await reconcileJob(app, 'customers', { pageSize: page });
    const seconds = (performance.now() - t) / 1000;
    const memory = rss.stop();
    const statements = take();
    if (r.status !== 'ok') throw new Error(`reconcile ${r.status}: ${JSON.stringify(r.error)}`);
    if (r.reconciled.erp.missing !== deleted) throw new Error(`expected ${deleted} missing keys, got ${r.reconciled.erp.missing}`);

    // 2. the floor: one full keyset read of the table through the same driver
    t = performance.now();
    let read = 0;
    for await (const p of app.sources.driver('erp').readPages({ table: 'erp_customer', key: ['cust_code'], pageSize: 1000 })) read += p.length;
    const fullReadSeconds = (performance.now() - t) / 1000;
    const fullReadStatements = take();

    // 3. quiet: nothing deleted since
    t = performance.now();
    const quiet = await reconcileJob(app, 'customers', { pageSize: page });
    const quietSeconds = (performance.now() - t) / 1000;
    const quietStatements = take();

    process.stdout.write(
      `${JSON.stringify(
        {
          rows: n,
          erp: erpDialect,
          hub: hubDialect,
          page,
          seedSeconds,
          reconcile: {
            seconds: round(seconds),
            keysPerSecond: Math.round(r.reconciled.erp.checked / seconds),
            checked: r.reconciled.erp.checked,
            deletesApplied: r.sources.erp.hubDeleted,
            statements,
            memory,
          },
          fullRead: { seconds: round(fullReadSeconds), rowsPerSecond: Math.round(read / fullReadSeconds), statements: fullReadStatements },
          ratioReconcileToFullRead: round(seconds / fullReadSeconds),
          quiet: { seconds: round(quietSeconds), keysPerSecond: Math.round(quiet.reconciled.erp.checked / quietSeconds), missing: quiet.reconciled.erp.missing, statements: quietStatements },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    if (app) await closeApp(app);
    await Promise.allSettled([erpDb.drop(), hubDb.drop()]);
  }
}

await main();
