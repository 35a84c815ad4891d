/**
 * What tracing costs a source statement: `driver.select` of 50 rows from SQLite (in memory), the
 * cheapest statement a source answers, so the span's share is at its largest here.
 *
 *   node --import tsx bench/tracing.bench.ts [--statements 20000] [--rounds 3]
 *
 * - off: no provider registered (the API's no-op tracer), as when tracing is not configured;
 * - on: the SDK as app/tracing.ts registers it, every span recorded and handed to a batch
 *   processor whose exporter drops it (the export itself happens off the request path).
 * Rounds alternate off/on; the best round of each is kept. Prints one JSON document with the
 * statements per second of each, the ratio on/off, and the cost of one no-op span alone (what
 * every statement pays when tracing is off).
 */
import { performance } from 'node:perf_hooks';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { registerTracing } from '../app/tracing-sdk.js';
import { sourceSchema } from '../config/schema.js';
import { createDriver } from '../connectors/registry.js';
import { inSpan } from '../core/tracing.js';
import { flags, machine, round } from './lib/common.js';

const f = flags();
const STATEMENTS = f.num('statements', 20000);
const ROUNDS = f.num('rounds', 3);

const dropping: SpanExporter = {
  export: (_spans: ReadableSpan[], done) => done({ code: 0 }),
  shutdown: async () => undefined,
};

const driver = createDriver('bench', sourceSchema.parse({ kind: 'erp', dialect: 'sqlite', connection: { filename: ':memory:' } }));
await driver.knex.schema.createTable('t', (t) => {
  t.integer('id').primary();
  t.string('name');
  t.decimal('amount', 12, 2);
});
for (let i = 0; i < 1000; i += 250) {
  await driver.knex('t').insert(Array.from({ length: 250 }, (_, j) => ({ id: i + j, name: `customer ${i + j}`, amount: (i + j) * 1.5 })));
}

async function perSecond(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < STATEMENTS; i++) await driver.select({ table: 't', columns: ['id', 'name', 'amount'], limit: 50 });
  return STATEMENTS / ((performance.now() - started) / 1000);
}

/** Microseconds of one no-op inSpan around an already-settled promise: the whole cost of tracing when off. */
async function noopSpanMicroseconds(): Promise<number> {
  const n = 200_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) await inSpan('noop', { 'crmlink.source': 'bench' }, async () => undefined);
  const spanned = performance.now() - started;
  const bare = performance.now();
  for (let i = 0; i < n; i++) await (async () => undefined)();
  return ((spanned - (performance.now() - bare)) * 1000) / n;
}

const noop = await noopSpanMicroseconds();
await perSecond(); // warm-up: JIT, column types cached
const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  off.push(await perSecond());
  const tracing = registerTracing([new BatchSpanProcessor(dropping)]);
  on.push(await perSecond());
  await tracing.shutdown();
}
await driver.destroy();
const best = (xs: number[]) => Math.max(...xs);
console.log(
  JSON.stringify(
    {
      machine: machine(),
      statements: STATEMENTS,
      noopSpanMicroseconds: round(noop, 3),
      offPerSecond: round(best(off)),
      onPerSecond: round(best(on)),
      ratioOnOff: round(best(on) / best(off), 3),
      offMicrosecondsPerStatement: round(1e6 / best(off)),
      onMicrosecondsPerStatement: round(1e6 / best(on)),
    },
    null,
    2,
  ),
);
