/**
 * A writer process for the randomized backup test: random transactions on the hub (insert, update,
 * delete audit rows and cross-references, bump a counter), one after the other, until SIGTERM.
 * After each commit it appends `{ op, sums }` (the checksums of the state that commit produced) to
 * the log file, so the test knows what the hub looked like after every transaction.
 *
 * node --import tsx tests/hub/support/backup-writer.ts '<json: { dialect, connection, seed, log }>'
 */
import { appendFileSync } from 'node:fs';
import knexFactory, { type Knex } from 'knex';
import { sqliteHubKnex } from '../../../hub/hub.js';
import { prng, tableChecksums } from './backup-checksums.js';

const { dialect, connection, seed, log } = JSON.parse(process.argv[2] ?? '{}') as { dialect: 'sqlite' | 'postgres'; connection: Record<string, unknown>; seed: number; log: string };

const knex: Knex =
  dialect === 'sqlite'
    ? // The hub's own connection settings, waiting longer for the lock the test's backups take.
      sqliteHubKnex(String(connection.filename), 10000)
    : knexFactory({ client: 'pg', connection, pool: { min: 1, max: 1 } });

let stopping = false;
process.on('SIGTERM', () => (stopping = true));

const random = prng(seed);
const pick = (n: number) => Math.floor(random() * n);
const text = () => 'w'.repeat(pick(300)) + String(pick(1e9));

async function step(op: number): Promise<void> {
  await knex.transaction(async (trx) => {
    // Written first: on SQLite the transaction then holds the write lock (waiting for it if need
    // be) rather than failing to upgrade a read when another connection has written meanwhile.
    await trx('crm_counter').insert({ name: 'writer', value: op }).onConflict('name').merge();
    const ids = (await trx('crm_audit').pluck('id')) as number[];
    const changes = 1 + pick(4);
    for (let i = 0; i < changes; i++) {
      const what = pick(5);
      if (what === 0 || ids.length === 0) await trx('crm_audit').insert({ at: `op-${op}`, actor: `writer-${op}-${i}`, action: 'write', entity: 'Customer', after: text() });
      else if (what === 1) await trx('crm_audit').where({ id: ids[pick(ids.length)] }).update({ after: text(), at: `op-${op}` });
      else if (what === 2) await trx('crm_audit').where({ id: ids[pick(ids.length)] }).delete();
      else if (what === 3)
        await trx('crm_xref')
          .insert({ entity: 'Customer', source: 'erp', source_key: `K${pick(500)}`, gid: `cus_${op}_${i}`, rule: 'test', linked_at: `op-${op}` })
          .onConflict(['entity', 'source', 'source_key'])
          .merge();
      else await trx('crm_xref').where({ entity: 'Customer', source: 'erp', source_key: `K${pick(500)}` }).delete();
    }
  });
  appendFileSync(log, `${JSON.stringify({ op, sums: await tableChecksums(knex) })}\n`);
}

for (let op = 1; !stopping; op++) {
  await step(op);
  // better-sqlite3 answers without a trip through the event loop: yield to it, or SIGTERM is never seen.
  await new Promise((r) => setImmediate(r));
}
await knex.destroy();
