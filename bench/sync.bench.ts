/**
 * Sync benchmark: initial load against the raw batched insert, incremental runs at several table
 * sizes, peak RSS of the initial load, and change-to-visible lag through GraphQL.
 *
 *   node --import tsx bench/sync.bench.ts [--sizes 10000,100000,1000000] [--changes 1000] [--batch 1000]
 *   npm run bench:build && node dist/bench/sync.bench.js …   (the compiled service: no tsx in the process)
 *        [--hub sqlite|postgres] [--erp postgres|mysql] [--finance mysql|postgres]
 *        [--lag-interval 2] [--lag-samples 5] [--no-lag] [--profile | --heap] [--default-heap]
 *
 * Topology (the job `customers`, ERP ↔ hub ↔ finance): the ERP's U8 `Customer` table on PostgreSQL
 * (bench/data/generate.ts: Chinese names, valid credit codes, modify times spread over years),
 * captured by timestamp (dModifyDate); an empty finance `fin_customer` on MariaDB, captured by
 * trigger + change log with origin tags (crmlink's own writes are skipped); the hub on SQLite.
 *
 * Each size runs in its own child process, so its peak RSS is its own:
 * 1. initial load: runJob on the empty hub: read every ERP row, map, match identity, merge, write
 *    hub records + xref + base + provenance, insert every customer into finance; rows/s, peak RSS
 *    (sampled every 50 ms, and the kernel's max RSS) and where the time went (pull / push per source);
 * 2. raw: the same rows into an empty copy of the finance table through the same driver's batched
 *    insert (driver.upsert, mode insert, batches of --batch): the floor any sync must pay to write
 *    them once; the ratio initial / raw;
 * 3. quiet run: nothing changed (what a scheduled tick costs when the systems are in step);
 * 4. incremental: --changes random ERP customers edited (phone and dModifyDate, as U8 does), then
 *    one run: its time must follow the changes, not the table size;
 * 5. lag (first size only): the scheduler runs the job every --lag-interval seconds; an ERP
 *    customer's phone is changed and GraphQL (`customer(id) { phone }`) polled every 20 ms until it
 *    shows the new value: time from the source commit to visible, --lag-samples times.
 *
 * --profile: CPU-profile the initial load of each size (crmlink-sync-initial-<n>.cpuprofile in
 * --profile-dir, default the temp dir) and add the summary of where the time went to the output.
 *
 * --heap: instead of the CPU profile, a sampling heap profile of the initial load read half-way
 * through the push phase: the live memory by allocating crmlink function (what the RSS is made of).
 *
 * BENCH_TRACE=1: print every statement slower than 5 ms of the quiet and incremental runs.
 *
 * Prints one JSON object per size. Needs PostgreSQL and MariaDB on 127.0.0.1 (PG_URL, MYSQL_URL).
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { flags, machine, round, RssSampler, statementCounter } from './lib/common.js';
import { updatedByTimestamp } from '../demo/mappings.js';

process.env.NODE_ENV ??= 'production';
const f = flags();
const SELF = fileURLToPath(import.meta.url);

async function parent(): Promise<void> {
  const sizes = f.list('sizes', '10000').map(Number);
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--sizes' && all[i - 1] !== '--sizes');
  process.stderr.write(`machine: ${JSON.stringify(machine())}\n`);
  for (const [i, n] of sizes.entries()) {
    // The child runs as the parent does: through tsx from the sources, or compiled (`--compiled` in bench/run.ts).
    const args = [...process.execArgv, SELF, '--child', String(n), ...(i === 0 && !f.has('no-lag') ? ['--lag'] : []), ...passOn];
    const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('close', resolve));
    if (code !== 0) throw new Error(`sync bench at ${n} rows exited with ${code}`);
  }
}

async function child(n: number): Promise<void> {
  // The process runs the job as `crmlink sync run` does: with the old generation's growth held
  // (bin/crmlink.mjs; --default-heap keeps V8's own sizing, to compare).
  if (!f.has('default-heap')) (await import('../cli/heap-growth.js')).boundOldGeneration();
  const { parseConfig } = await import('../config/load.js');
  const { closeApp, openApp } = await import('../app/app.js');
  const { silentLogger } = await import('../core/logger.js');
  const { installCapture } = await import('../connectors/capture/index.js');
  const { runJob } = await import('../sync/engine.js');
  const { SyncScheduler } = await import('../sync/scheduler.js');
  const { createDatabase, openLoader, loadSystem, customer, customerCode } = await import('./data/generate.js');
  type RunReport = Awaited<ReturnType<typeof runJob>>;
  type Dialect = 'postgres' | 'mysql' | 'sqlite';

  const changes = f.num('changes', 1000);
  const batch = f.num('batch', 1000);
  const hubDialect = f.get('hub', 'sqlite') as 'sqlite' | 'postgres';
  const erpDialect = f.get('erp', 'postgres') as Dialect;
  const finDialect = f.get('finance', 'mysql') as Dialect;

  const hubDb = await createDatabase(hubDialect, 'synchub');
  const erpDb = await createDatabase(erpDialect, 'syncerp');
  const finDb = await createDatabase(finDialect, 'syncfin');
  let app: Awaited<ReturnType<typeof openApp>> | null = null;
  try {
    // Sources: the ERP's customers (bulk-loaded), two empty finance tables (sync target, raw target).
    const tSeed = performance.now();
    await loadSystem('erp', erpDb, n, { detail: false });
    const fin = await openLoader(finDb);
    const q = (s: string) => (finDialect === 'mysql' ? `\`${s}\`` : `"${s}"`);
    for (const t of ['fin_customer', 'fin_customer_raw']) {
      await fin.exec(
        `CREATE TABLE ${q(t)} (${q('acct_no')} varchar(16) NOT NULL PRIMARY KEY, ${q('cust_name')} varchar(200) NOT NULL, ${q('credit_code')} varchar(18), ${q('tel')} varchar(40), ${q('credit_limit')} decimal(18,2), ${q('city')} varchar(60), ${q('owner')} varchar(20))`,
      );
    }
    await fin.close();
    const seedSeconds = round((performance.now() - tSeed) / 1000);

    const c = (d: { connection: Record<string, unknown> }) => JSON.stringify(d.connection);
    const yaml = `
hub: { dialect: ${hubDialect}, connection: ${c(hubDb)} }
log: { level: silent }
sources:
  erp: { kind: erp, dialect: ${erpDialect}, connection: ${c(erpDb)}, timezone: Asia/Shanghai }
  finance: { kind: finance, dialect: ${finDialect}, connection: ${c(finDb)}, timezone: UTC }
entities:
  Customer:
    match:
      - { rule: creditCode, certainty: sure }
      - { rule: name, certainty: probable }
    survivorship: { default: "erp,finance", fields: { creditLimit: finance } }
    sources:
      erp:
${updatedByTimestamp('Customer', 'cCusCode', 'dModifyDate', 5)}
          code: { column: cCusCode, write: false }
          name: { column: cCusName, trim: true, halfWidth: true }
          creditCode: { column: cCusRegCode, trim: true }
          phone: { column: cCusPhone, trim: true }
          city: cCusCity
          creditLimit: { column: iCusCreLine, type: decimal, scale: 2 }
          ownerId: cCusPPerson
      finance:
        table: fin_customer
        key: [acct_no]
        changes: { strategy: ${finDialect === 'sqlite' ? 'hash' : 'trigger'} }
        write: [insert, update]
        fields:
          code: acct_no
          name: cust_name
          creditCode: credit_code
          phone: tel
          city: city
          creditLimit: { column: credit_limit, type: decimal, scale: 2 }
          ownerId: owner
sync:
  jobs:
    customers:
      entity: Customer
      sources: [erp, finance]
      batchSize: ${batch}
      schedule: "*/${f.num('lag-interval', 2)} * * * * *"
      conflicts: { default: newest, fields: { creditLimit: "source:finance" } }
server: { auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, write: true, admin: true } } } }
`;
    app = await openApp(parseConfig(yaml), { logger: silentLogger });
    if (finDialect !== 'sqlite') await installCapture(app.sources.driver('finance'), app.sources.mapping('Customer', 'finance'));

    // Statements sent, per database: where a run's round trips go.
    const { take } = statementCounter(app, ['erp', 'finance']);

    // 1. initial load (first, so the process's max RSS is this phase's)
    const rss = new RssSampler(50);
    /** Highest RSS seen at a page boundary of each phase (pull / push per source). */
    const rssByPhase: Record<string, number> = {};
    let t = performance.now();
    let initial: RunReport;
    let profile: unknown;
    if (f.has('profile')) {
      const { profileDuring } = await import('./lib/cpuprofile.js');
      const file = join(f.get('profile-dir', tmpdir()), `crmlink-sync-initial-${n}.cpuprofile`);
      const p = await profileDuring(file, () => runJob(app!, 'customers'));
      initial = p.result;
      profile = { file, idlePct: p.summary.idlePct, byArea: p.summary.byArea.slice(0, 12), byFunction: p.summary.byFunction.slice(0, 20) };
    } else if (f.has('heap')) {
      // What holds the memory: a sampling heap profile read when the pull of the ERP is done
      // (the moment the most run state is alive), summarised by allocating function.
      const { Session } = await import('node:inspector/promises');
      const session = new Session();
      session.connect();
      await session.post('HeapProfiler.startSampling', { samplingInterval: 256 * 1024 });
      let taken: Promise<unknown> | null = null;
      initial = await runJob(app, 'customers', {
        onProgress: (e) => {
          if (e.phase === 'push' && !taken && e.estimated !== null && e.done >= e.estimated / 2) taken = session.post('HeapProfiler.getSamplingProfile');
        },
      });
      const { profile: hp } = (await (taken ?? session.post('HeapProfiler.getSamplingProfile'))) as unknown as { profile: { head: HeapNode } };
      await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      profile = { heapAtPushMidpoint: summariseHeap(hp.head), heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) };
    } else {
      initial = await runJob(app, 'customers', {
        onProgress: (e) => {
          const r = process.memoryUsage().rss;
          const k = `${e.phase}:${e.source}`;
          if (r > (rssByPhase[k] ?? 0)) rssByPhase[k] = r;
        },
      });
    }
    const initialSeconds = (performance.now() - t) / 1000;
    const memory = rss.stop();
    const initialStatements = take();
    check(initial, 'initial load');

    // 2. raw batched insert of the same rows through the same driver
    const driver = app.sources.driver('finance');
    const finRow = (i: number) => {
      const x = customer(i);
      return { acct_no: x.code, cust_name: x.name, credit_code: x.creditCode, tel: x.phone, credit_limit: x.creditLimit, city: x.city, owner: x.salesperson };
    };
    t = performance.now();
    for (let start = 1; start <= n; start += batch) {
      const part = Array.from({ length: Math.min(batch, n - start + 1) }, (_, j) => finRow(start + j));
      const out = await driver.upsert(part, { table: 'fin_customer_raw', key: ['acct_no'], mode: 'insert' });
      if (out.some((o) => o.status === 'error')) throw new Error('raw insert failed');
    }
    const rawSeconds = (performance.now() - t) / 1000;
    const rawStatements = take();

    // 3. quiet run (the first settles the look-back window of the writes just made)
    await runJob(app, 'customers');
    if (process.env.BENCH_TRACE) {
      // Statements slower than 5 ms from here on, with their time: where a quiet / incremental run goes.
      const started = new Map<string, number>();
      for (const [name, k] of [['hub', app.hub.knex], ['erp', app.sources.driver('erp').knex], ['finance', app.sources.driver('finance').knex]] as const) {
        k.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, performance.now()));
        k.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string; bindings?: unknown[] }) => {
          const ms = performance.now() - (started.get(q.__knexQueryUid) ?? performance.now());
          if (ms > 5) process.stderr.write(`${name} ${ms.toFixed(1)}ms ${q.sql.slice(0, 300)} ${JSON.stringify(q.bindings ?? []).slice(0, 200)}\n`);
        });
      }
    }
    t = performance.now();
    const quiet = await runJob(app, 'customers');
    const quietSeconds = (performance.now() - t) / 1000;
    take();

    // 4. incremental: `changes` random ERP customers edited
    const erpK = app.sources.driver('erp').knex;
    const nowLocal = erpDialect === 'postgres' ? erpK.raw(`(now() at time zone 'Asia/Shanghai')::timestamp(0)`) : erpK.raw(`CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00')`);
    const edit = async (codes: string[], suffix: string) => {
      for (let s = 0; s < codes.length; s += 500) {
        await erpK('Customer')
          .whereIn('cCusCode', codes.slice(s, s + 500))
          .update({ cCusPhone: erpK.raw(erpDialect === 'postgres' ? `"cCusPhone" || ?` : 'concat(`cCusPhone`, ?)', [suffix]), dModifyDate: nowLocal });
      }
    };
    const picked = new Set<number>();
    let seed = 42;
    while (picked.size < Math.min(changes, n)) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      picked.add((seed % n) + 1);
    }
    await edit([...picked].map(customerCode), 'x');
    take();
    t = performance.now();
    const inc = await runJob(app, 'customers');
    const incSeconds = (performance.now() - t) / 1000;
    const incStatements = take();
    check(inc, 'incremental run');

    // 5. change-to-visible lag, with the scheduler ticking
    let lag: unknown;
    if (f.has('lag')) {
      const interval = f.num('lag-interval', 2);
      const samples = f.num('lag-samples', 5);
      // Let the look-back window of the incremental run's writes pass, then run quietly once.
      await new Promise((r) => setTimeout(r, 6000));
      await runJob(app, 'customers');
      // Loaded only now, so the GraphQL layer's memory is not in the initial load's RSS.
      const { createYogaApp } = await import('../server/yoga-app.js');
      const yoga = createYogaApp(app, { logger: false });
      // The hub ids here are made by the sync: find customer i's through the cross-reference.
      const gidOf = async (i: number): Promise<string> => String((await app!.hub.knex('crm_xref').where({ entity: 'Customer', source: 'erp', source_key: customerCode(i) }).first()).gid);
      const phoneByGid = async (gid: string): Promise<string | null> => {
        const res = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ customer(id: "${gid}") { phone } }` }) });
        const body = (await res.json()) as { data?: { customer: { phone: string } | null } };
        return body.data?.customer?.phone ?? null;
      };
      const runs: number[] = [];
      const scheduler = new SyncScheduler(app, { onRun: (r) => runs.push(r.durationMs) }).start();
      const lags: number[] = [];
      try {
        for (let s = 0; s < samples; s++) {
          const i = 1 + ((s * 7919) % n);
          const gid = await gidOf(i);
          const want = `${customer(i).phone}-L${s}`;
          // Commit in the source at a random point of the tick interval.
          await new Promise((r) => setTimeout(r, Math.floor(Math.random() * interval * 1000)));
          await erpK('Customer').where('cCusCode', customerCode(i)).update({ cCusPhone: want, dModifyDate: nowLocal });
          const committed = performance.now();
          const deadline = committed + (interval + 30) * 1000;
          for (;;) {
            if ((await phoneByGid(gid)) === want) {
              lags.push(performance.now() - committed);
              break;
            }
            if (performance.now() > deadline) throw new Error(`change to ${customerCode(i)} not visible after ${interval + 30} s`);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      } finally {
        await scheduler.stop();
      }
      const sorted = [...lags].sort((a, b) => a - b);
      lag = {
        intervalSeconds: interval,
        samples,
        meanSeconds: round(lags.reduce((a, b) => a + b, 0) / lags.length / 1000),
        minSeconds: round(sorted[0] / 1000),
        maxSeconds: round(sorted[sorted.length - 1] / 1000),
        scheduledRunMs: { count: runs.length, mean: Math.round(runs.reduce((a, b) => a + b, 0) / Math.max(1, runs.length)), max: Math.max(0, ...runs) },
      };
    }

    const rawRate = n / rawSeconds;
    const loadRate = n / initialSeconds;
    const result = {
      bench: 'sync',
      rows: n,
      hub: hubDialect,
      erp: erpDialect,
      finance: finDialect,
      batch,
      seedSeconds,
      initialLoad: {
        seconds: round(initialSeconds),
        rowsPerSecond: Math.round(loadRate),
        ratioToRaw: round(loadRate / rawRate, 3),
        hubWritten: initial.totals.hubWritten,
        financeInserted: initial.sources.finance?.inserted,
        status: initial.status,
        phasesMs: phases(initial),
        rssMiB: { ...memory, byPhase: Object.fromEntries(Object.entries(rssByPhase).map(([k, v]) => [k, Math.round(v / 2 ** 20)])) },
        statements: initialStatements,
        ...(profile ? { profile } : {}),
      },
      raw: { seconds: round(rawSeconds), rowsPerSecond: Math.round(rawRate), statements: rawStatements },
      quietRun: { seconds: round(quietSeconds, 3), read: quiet.totals.read, written: quiet.totals.written, phasesMs: phases(quiet) },
      incremental: { changes: picked.size, seconds: round(incSeconds, 3), read: inc.totals.read, written: inc.totals.written, status: inc.status, phasesMs: phases(inc), statements: incStatements },
      ...(lag ? { lag } : {}),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (app) await closeApp(app);
    await Promise.allSettled([hubDb.drop(), erpDb.drop(), finDb.drop()]);
  }

  function phases(r: RunReport): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of Object.entries(r.sources)) {
      out[`pull:${name}`] = s.pullMs;
      out[`push:${name}`] = s.pushMs;
    }
    return out;
  }

  function check(r: RunReport, what: string): void {
    if (r.status !== 'ok') throw new Error(`${what}: ${r.status} ${JSON.stringify(r.error ?? r.totals)}`);
  }
}

interface HeapNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: HeapNode[];
}

/** Live sampled bytes by allocating function (top 15) and by crmlink folder / package. */
function summariseHeap(head: HeapNode): { totalMiB: number; byFunction: { fn: string; where: string; MiB: number }[]; byArea: Record<string, number> } {
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  const root = process.cwd();
  const walk = (n: HeapNode, owner: string) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const mine = url.startsWith(root) && !url.includes('/node_modules/') ? `${n.callFrame.functionName || '(anonymous)'} ${url.replace(`${root}/`, '')}` : owner;
    if (n.selfSize) {
      total += n.selfSize;
      fns.set(mine, (fns.get(mine) ?? 0) + n.selfSize);
      const nm = url.lastIndexOf('node_modules/');
      const area = nm >= 0 ? `pkg:${url.slice(nm + 13).split('/')[0]}` : url.startsWith(root) ? `crmlink:${url.slice(root.length + 1).split('/')[0]}` : '(node)';
      areas.set(area, (areas.get(area) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, mine);
  };
  walk(head, '(outside crmlink)');
  const m = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  return {
    totalMiB: m(total),
    byFunction: [...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => ({ fn: k.split(' ')[0], where: k.split(' ')[1] ?? '', MiB: m(v) })),
    byArea: Object.fromEntries([...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => [k, m(v)])),
  };
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(Number(process.argv[at + 1]));
else await parent();
