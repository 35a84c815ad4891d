/**
 * A golden customer written straight into a hub as a sync would leave it (record row, xref, base
 * rows, then survivorship and provenance through recomputeGolden): the starting point of the merge
 * tests, without running a sync.
 */
import { afterEach } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { hashRecord } from '../../model/values.js';
import type { CrmRecord } from '../../model/entities.js';
import { Hub, nowIso } from '../../hub/hub.js';
import { SYSTEM_TABLES as T } from '../../hub/tables.js';
import { recomputeGolden, type SurvivorshipRules } from '../../identity/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

export interface IdentityEnv {
  db: TestDatabase;
  hub: Hub;
}

/**
 * Opens SQLite hubs whose Customer maps the given sources (erp, finance, oa, each with a name
 * field), each closed and dropped after its test.
 */
export function identityHubs(prefix: string, sources: readonly ('erp' | 'finance' | 'oa')[]): () => Promise<IdentityEnv> {
  const opened: IdentityEnv[] = [];
  afterEach(async () => {
    for (const e of opened.splice(0)) {
      await e.hub.destroy();
      await e.db.drop();
    }
  });
  const mapping = { erp: '{ table: customer, key: [code], fields: { name: name } }', finance: '{ table: ar_customer, key: [id], fields: { name: cust_name } }', oa: '{ table: org, key: [id], fields: { name: org_name } }' };
  return async () => {
    const db = await createTestDatabase('sqlite', prefix);
    const loaded = parseConfig(`
hub:
  dialect: sqlite
  connection: ${JSON.stringify(db.connection)}
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ./erp.db } }
  finance: { kind: finance, dialect: sqlite, connection: { filename: ./finance.db } }
  oa: { kind: oa, dialect: sqlite, connection: { filename: ./oa.db } }
entities:
  Customer:
    sources:
${sources.map((s) => `      ${s}: ${mapping[s]}`).join('\n')}
`);
    const env = { db, hub: await Hub.open(loaded) };
    opened.push(env);
    return env;
  };
}

/** A source row linked to the customer: its key, its own change time (null when the source gives none) and values. */
export interface SeedLink {
  source: string;
  key: string;
  changedAt: string | null;
  values: CrmRecord;
  /** The xref rule the key was linked by (default `new`) and when (default: when it was synced). */
  rule?: string;
  linkedAt?: string;
}

export interface SeedOptions {
  rules: SurvivorshipRules;
  /** Values the hub record holds beyond the first link's name. */
  hubValues?: CrmRecord;
  /** When every link was made and last synced; by default each link's own change time. */
  syncedAt?: string;
}

/** The new customer's id. */
export async function seedGoldenCustomer(hub: Hub, links: SeedLink[], opts: SeedOptions): Promise<string> {
  const gid = hub.newId('Customer');
  await hub.knex.transaction(async (trx) => {
    await trx('crm_customer').insert({
      id: gid,
      ...hub.toRow('Customer', { name: links[0]?.values.name ?? null, ...opts.hubValues }),
      _version: 1,
      _seq: await hub.nextSeq(trx),
      _updated_at: nowIso(),
      _deleted: false,
    });
    for (const l of links) {
      const syncedAt = opts.syncedAt ?? l.changedAt;
      if (syncedAt === null) throw new Error(`link ${l.source}/${l.key} has no change time and no syncedAt was given`);
      await trx(T.xref).insert({ entity: 'Customer', source: l.source, source_key: l.key, gid, rule: l.rule ?? 'new', linked_at: l.linkedAt ?? syncedAt });
      await trx(T.base).insert({
        entity: 'Customer',
        source: l.source,
        source_key: l.key,
        values: JSON.stringify(l.values),
        hash: hashRecord(l.values),
        deleted: false,
        changed_at: l.changedAt,
        synced_at: syncedAt,
      });
    }
    // A record no source holds (made in the hub) keeps the values it was given.
    if (links.length > 0) await recomputeGolden(hub, trx, 'Customer', gid, opts.rules);
  });
  return gid;
}
