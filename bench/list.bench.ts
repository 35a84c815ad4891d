/**
 * Single-source list query with a filter and an ordering: crmlink against PostGraphile 5 (the
 * current major) and PostGraphile 4, all serving the same PostgreSQL ERP database over HTTP on
 * 127.0.0.1, each a single Node process (crmlink this one, each PostGraphile a child), measured by
 * the same load generator (another child, bench/lib/http-load.ts) in alternating rounds.
 *
 * PostGraphile 5 needs Node >= 22 and is not a project dependency: the bench setup step
 * scripts/bench-setup-postgraphile-v5.sh installs it into bench/.postgraphile-v5/, and it runs
 * under the Node 22 that scripts/with-node.sh takes from the npm registry. Without that step the
 * v5 row is left out (the JSON says so).
 *
 *   node --import tsx bench/list.bench.ts [--customers 10000] [--seconds 5] [--clients 1,10,50] [--rounds 2]
 *        [--first 50] [--pool 10] [--profile --profile-seconds 10 --profile-clients 10]
 *
 * The ERP is bench/data/generate.ts's U8 schema (10 orders per customer). The query: orders in one
 * state (cycled over the five states, request by request), newest first, first 50, six columns:
 *
 *   crmlink:     salesOrders(first: 50, where: { status: { eq: APPROVED } },
 *                             orderBy: [{ field: orderDate, direction: DESC }]) { nodes { … } }
 *   PostGraphile: allSoSoMains(first: 50, condition: { cState: "1" }, orderBy: D_DATE_DESC) { nodes { … } }
 *                 (the same in v4 and v5, but for the object id's name: `nodeId` in v4, `id` in v5)
 *
 * crmlink maps the columns (status code → enum, decimal scale, date) and builds Relay ids;
 * PostGraphile returns the columns as they are. Both pools hold --pool connections. Both sides
 * are checked to return the same orders. Prints JSON: requests/s, p50/p99 per side and the ratios
 * crmlink/PostGraphile 4 (throughputRatio) and crmlink/PostGraphile 5 (throughputRatioV5) per
 * client count. --profile: instead, CPU-profile crmlink's server under
 * load and print where its time goes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flags, machine, mergeRounds, round, type LoadResult } from './lib/common.js';
import { runHttpLoad } from './lib/http-load.js';
import { profileDuring } from './lib/cpuprofile.js';
import { FEDERATED_SALES_ORDERS } from './lib/setup.js';

process.env.NODE_ENV ??= 'production';
const { createDatabase, loadSystem } = await import('./data/generate.js');
const { parseConfig } = await import('../config/load.js');
const { openApp } = await import('../app/app.js');
const { silentLogger } = await import('../core/logger.js');
const { startServer } = await import('../server/server.js');

/** A peer GraphQL server in its own process; it prints one JSON line with its url once ready. */
function startPeer(name: string, command: string, args: string[]): Promise<{ url: string; graphql: string; version?: string; child: ChildProcess }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        const info = JSON.parse(out.split('\n')[0]) as { url: string; graphql: string; version?: string };
        resolve({ ...info, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
}

/** PostGraphile 4 in its own process (bench/lib/postgraphile-server.cjs explains why). */
function startPostGraphile(connection: object, pool: number) {
  const file = fileURLToPath(new URL('./lib/postgraphile-server.cjs', import.meta.url));
  return startPeer('postgraphile 4', process.execPath, [file, JSON.stringify({ connection, pool })]);
}

/**
 * PostGraphile 5 in its own process under Node 22 (bench/lib/postgraphile-v5-server.cjs), or null
 * when the bench setup step (scripts/bench-setup-postgraphile-v5.sh) has not installed it.
 */
const V5_DIR = fileURLToPath(new URL('./.postgraphile-v5/node_modules/postgraphile/package.json', import.meta.url));
function startPostGraphileV5(connection: object, pool: number) {
  if (!existsSync(V5_DIR)) return null;
  const file = fileURLToPath(new URL('./lib/postgraphile-v5-server.cjs', import.meta.url));
  const withNode = fileURLToPath(new URL('../scripts/with-node.sh', import.meta.url));
  return startPeer('postgraphile 5', 'bash', [withNode, '22', 'node', file, JSON.stringify({ connection, pool })]);
}

const f = flags();
const CUSTOMERS = f.num('customers', 10_000);
const SECONDS = f.num('seconds', 5);
const CLIENTS = f.list('clients', '1,10,50').map(Number);
const ROUNDS = f.num('rounds', 2);
const FIRST = f.num('first', 50);
const POOL = f.num('pool', 10);

const STATES: [string, string][] = [
  ['0', 'DRAFT'],
  ['1', 'APPROVED'],
  ['2', 'SHIPPED'],
  ['3', 'CLOSED'],
  ['4', 'CANCELLED'],
];
const crmlinkBody = (status: string) =>
  JSON.stringify({
    query: `query($s: SalesOrderStatus) { salesOrders(first: ${FIRST}, where: { status: { eq: $s } }, orderBy: [{ field: orderDate, direction: DESC }]) { nodes { id code orderDate status totalAmount salesperson } } }`,
    variables: { s: status },
  });
/** v4 calls the global object id `nodeId`; v5's amber preset calls it `id` (and a column ID `rowId`). */
const postgraphileBody = (code: string, idField: 'nodeId' | 'id' = 'nodeId') =>
  JSON.stringify({
    query: `query($s: String) { allSoSoMains(first: ${FIRST}, condition: { cState: $s }, orderBy: D_DATE_DESC) { nodes { ${idField} cSoCode dDate cState iMoney cPersonCode } } }`,
    variables: { s: code },
  });

async function post(url: string, body: string): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return res.json();
}

const PGL_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../node_modules/postgraphile/package.json', import.meta.url)), 'utf8')) as { version: string }).version;
let peerGraphql = '';

async function main(): Promise<void> {
  const erp = await createDatabase('postgres', 'list');
  const hub = await createDatabase('sqlite', 'listhub');
  let crm: Awaited<ReturnType<typeof startServer>> | null = null;
  let pgl: ChildProcess | null = null;
  let pgl5: ChildProcess | null = null;
  try {
    const load = await loadSystem('erp', erp, CUSTOMERS);
    const yaml = `
hub: { dialect: sqlite, connection: ${JSON.stringify(hub.connection)} }
log: { level: silent }
sources:
  erp: { kind: erp, dialect: postgres, connection: ${JSON.stringify(erp.connection)}, timezone: Asia/Shanghai, pool: { min: 0, max: ${POOL} } }
entities:
${FEDERATED_SALES_ORDERS}
server: { port: 0, graphiql: false, auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, write: true, admin: true } } } }
`;
    const app = await openApp(parseConfig(yaml), { logger: silentLogger });
    crm = await startServer(app, { port: 0, host: '127.0.0.1' });
    const crmUrl = `http://127.0.0.1:${crm.port}/graphql`;

    const peer = await startPostGraphile(erp.connection, POOL);
    pgl = peer.child;
    peerGraphql = peer.graphql;
    const pglUrl = peer.url;
    const peer5 = await startPostGraphileV5(erp.connection, POOL);
    pgl5 = peer5?.child ?? null;
    const pgl5Url = peer5?.url ?? null;

    // Same orders on every side (codes in order), for every state.
    for (const [code, status] of STATES) {
      const a = (await post(crmUrl, crmlinkBody(status))) as { data?: { salesOrders: { nodes: { code: string }[] } }; errors?: unknown };
      if (!a.data?.salesOrders) throw new Error(`query failed: ${JSON.stringify(a.errors)}`);
      const x = a.data.salesOrders.nodes.map((n) => n.code).join(',');
      if (a.data.salesOrders.nodes.length !== FIRST) throw new Error(`crmlink returned ${a.data.salesOrders.nodes.length} orders for state ${code}, not ${FIRST}`);
      for (const [label, url, idField] of [['PostGraphile 4', pglUrl, 'nodeId'], ['PostGraphile 5', pgl5Url, 'id']] as const) {
        if (!url) continue;
        const b = (await post(url, postgraphileBody(code, idField))) as { data?: { allSoSoMains: { nodes: { cSoCode: string }[] } }; errors?: unknown };
        if (!b.data?.allSoSoMains) throw new Error(`${label} query failed: ${JSON.stringify(b.errors)}`);
        const y = b.data.allSoSoMains.nodes.map((n) => n.cSoCode).join(',');
        if (x !== y) throw new Error(`crmlink and ${label} disagree for state ${code}:\n${x.slice(0, 200)}\n${y.slice(0, 200)}`);
      }
    }
    // Statements per request on crmlink's side.
    let statements = 0;
    const off = app.sources.driver('erp').onQuery(() => statements++);
    await post(crmUrl, crmlinkBody('APPROVED'));
    off();

    const crmBodies = STATES.map(([, s]) => crmlinkBody(s));
    const pglBodies = STATES.map(([c]) => postgraphileBody(c));
    const pgl5Bodies = STATES.map(([c]) => postgraphileBody(c, 'id'));
    if (f.has('profile')) {
      // Only crmlink's side, whose server runs in this process: where its time goes under load.
      const file = f.get('profile-out', join(tmpdir(), 'crmlink-list.cpuprofile'));
      const { result, summary } = await profileDuring(file, () => runHttpLoad({ url: crmUrl, bodies: crmBodies, clients: f.num('profile-clients', 10), seconds: f.num('profile-seconds', 10) }));
      process.stdout.write(`${JSON.stringify({ bench: 'list-profile', file, load: result, summary }, null, 2)}\n`);
      return;
    }
    const runs: Record<string, unknown> = {};
    for (const clients of CLIENTS) {
      const a: LoadResult[] = [];
      const b: LoadResult[] = [];
      const c: LoadResult[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        a.push(await runHttpLoad({ url: crmUrl, bodies: crmBodies, clients, seconds: SECONDS }));
        b.push(await runHttpLoad({ url: pglUrl, bodies: pglBodies, clients, seconds: SECONDS }));
        if (pgl5Url) c.push(await runHttpLoad({ url: pgl5Url, bodies: pgl5Bodies, clients, seconds: SECONDS }));
      }
      const ca = mergeRounds(a, []);
      const pa = mergeRounds(b, []);
      const p5 = pgl5Url ? mergeRounds(c, []) : null;
      runs[`clients_${clients}`] = {
        crmlink: ca,
        postgraphile: pa,
        throughputRatio: round(ca.perSecond / pa.perSecond, 3),
        ...(p5 ? { postgraphileV5: p5, throughputRatioV5: round(ca.perSecond / p5.perSecond, 3) } : {}),
      };
    }
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'list-vs-postgraphile',
          machine: machine(),
          peer: `postgraphile ${PGL_VERSION} (graphql ${peerGraphql})`,
          peerV5: peer5 ? `postgraphile ${peer5.version} (graphql ${peer5.graphql}), Node 22` : 'not installed: run scripts/bench-setup-postgraphile-v5.sh',
          customers: CUSTOMERS,
          orders: load.tables.SO_SOMain?.rows,
          first: FIRST,
          pool: POOL,
          seconds: SECONDS,
          rounds: ROUNDS,
          crmlinkStatementsPerRequest: statements,
          ...runs,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    for (const child of [pgl, pgl5]) {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin?.end();
        await exited;
      }
    }
    await crm?.close();
    await Promise.allSettled([erp.drop(), hub.drop()]);
  }
}

await main();
