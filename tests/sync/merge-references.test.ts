/**
 * References to a merged customer, through a merge and its unmerge: a contact's row in each source
 * must go on naming the customer the hub says it belongs to. Found by the entity histories
 * (`model-entities.test.ts`, seed 773896355, path "75"; RELIABILITY.md "Found and fixed").
 *
 * Both sources on SQLite, the hub on SQLite and on PostgreSQL; the contact is created in the hub (as
 * a GraphQL mutation does), the merge and unmerge are the identity layer's, each run is the
 * `customers` then the `contacts` job.
 */
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { closeApp, openApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { identityConfig, mergeRecords, unmergeRecords } from '../../identity/index.js';
import { runJob } from '../../sync/engine.js';
import type { Dialect } from '../../config/schema.js';
import { createTestDatabase, fixtureKnex, requireDialect } from '../support/databases.js';
import { hubAndSources } from '../support/config.js';

interface World {
  app: App;
  erp: Knex;
  crm: Knex;
  close(): Promise<void>;
}

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

async function createWorld(hubDialect: Dialect): Promise<World> {
  const dbs = { hub: await createTestDatabase(hubDialect, 'mrh'), erp: await createTestDatabase('sqlite', 'mre'), crm: await createTestDatabase('sqlite', 'mrc') };
  const erp = fixtureKnex(dbs.erp);
  const crm = fixtureKnex(dbs.crm);
  for (const k of [erp, crm]) {
    await k.schema.createTable('customer', (t) => {
      t.string('code', 20).primary();
      t.string('name', 100).notNullable();
    });
    await k.schema.createTable('contact', (t) => {
      t.increments('id');
      t.string('mobile', 20).notNullable();
      t.string('name', 100).notNullable();
      t.string('cust_code', 20).nullable();
    });
  }
  const sources = (fields: string) => `erp: ${fields}\n      crm: ${fields}`;
  const app = await openApp(
    parseConfig(`
${hubAndSources(dbs.hub, { erp: dbs.erp, crm: dbs.crm })}
entities:
  Customer:
    sources:
      ${sources('{ table: customer, key: [code], changes: { strategy: hash }, write: [insert, update, delete], fields: { code: code, name: name } }')}
  Contact:
    sources:
      ${sources('{ table: contact, key: [id], identity: true, changes: { strategy: hash }, write: [insert, update, delete], fields: { mobile: mobile, name: name, customerId: cust_code } }')}
sync:
  jobs:
    customers: { entity: Customer, sources: [erp, crm], conflicts: { default: manual } }
    contacts: { entity: Contact, sources: [erp, crm], conflicts: { default: manual } }
log: { level: silent }
`),
    { logger: silentLogger },
  );
  return {
    app,
    erp,
    crm,
    async close() {
      await closeApp(app).catch(() => undefined);
      await Promise.allSettled([erp.destroy(), crm.destroy()]);
      await Promise.allSettled(Object.values(dbs).map((d) => d.drop()));
    },
  };
}

/** A record created in the hub, as a GraphQL mutation creates it. */
async function createInHub(app: App, entity: 'Customer' | 'Contact', values: Record<string, string>): Promise<string> {
  const { store } = app.hub;
  const gid = app.hub.newId(entity);
  await store.transaction((trx) => store.golden.write(trx, entity, [{ gid, current: null, patch: values }], { actor: 'tester', action: 'create' }));
  return gid;
}

/** K1 typed into the CRM (the customer to be merged), K5 created in the hub (the survivor's gid returned). */
async function mergedAndSurvivor(w: World): Promise<string> {
  await w.crm('customer').insert({ code: 'K1', name: 'Merged' });
  return createInHub(w.app, 'Customer', { code: 'K5', name: 'Survivor' });
}

async function settle(app: App): Promise<void> {
  for (const job of ['customers', 'contacts']) expect((await runJob(app, job)).status).toBe('ok');
}

/** Merges the customer with code `mergedCode` into `survivor`, with no conflict, and syncs; the merge's id. */
async function mergeCustomers(app: App, survivor: string, mergedCode: string): Promise<number> {
  const merged = String(((await app.hub.knex('crm_customer').where({ code: mergedCode }).first('id')) as { id: string }).id);
  const ids = identityConfig(app.config, 'Customer');
  const r = await mergeRecords(app.hub, { survivor, merged, actor: 'tester', rules: ids.survivorship, policies: ids.conflicts, job: ids.job, choose: { code: 'survivor', name: 'survivor' } });
  expect(r.conflicts).toEqual([]);
  return r.mergeId;
}

async function mergeAndSettle(app: App, survivor: string, mergedCode: string): Promise<number> {
  const mergeId = await mergeCustomers(app, survivor, mergedCode);
  await settle(app);
  return mergeId;
}

/** Undoes the merge, keeping nothing of it, and syncs. */
async function unmergeAndSettle(app: App, mergeId: number): Promise<void> {
  expect((await unmergeRecords(app.hub, { mergeId, actor: 'tester' })).kept).toEqual([]);
  await settle(app);
}

/** The code of the customer a contact refers to: in the hub, and in each source's row. */
async function customerOf(w: World, mobile: string): Promise<{ hub: string | null; erp: string[]; crm: string[] }> {
  const hub = (await w.app.hub.knex('crm_contact').where({ mobile }).first()) as { customer_id?: string } | undefined;
  const ref = hub ? w.app.hub.fromRow('Contact', hub as Record<string, unknown>).values.customerId : null;
  const code = ref ? ((await w.app.hub.knex('crm_customer').where({ id: ref }).first('code')) as { code: string }).code : null;
  const rows = async (k: Knex) => ((await k('contact').where({ mobile }).orderBy('id')) as { cust_code: string }[]).map((r) => r.cust_code);
  return { hub: code, erp: await rows(w.erp), crm: await rows(w.crm) };
}

describe.each(['sqlite', 'postgres'] as const)('references to a merged customer (hub %s)', (hubDialect) => {
  it('are written with the survivor\'s own key, so an unmerge leaves a contact of the survivor with it', async (t) => {
    if (!(await requireDialect(hubDialect))) return t.skip();
    world = await createWorld(hubDialect);
    const { app } = world;
    // K1 typed into the CRM, K5 created in the hub; both reach both sources in one run (the
    // merged record's key K1 sorts first among the survivor's keys after the merge).
    const survivor = await mergedAndSurvivor(world);
    await settle(app);
    await createInHub(app, 'Contact', { mobile: '13900000009', name: 'Ann', customerId: survivor });
    const mergeId = await mergeAndSettle(app, survivor, 'K1');
    // The survivor holds rows K5 and K1 in each source; the contact's rows name its own, K5.
    expect(await customerOf(world, '13900000009')).toEqual({ hub: 'K5', erp: ['K5'], crm: ['K5'] });

    await unmergeAndSettle(app, mergeId);
    expect(await customerOf(world, '13900000009')).toEqual({ hub: 'K5', erp: ['K5'], crm: ['K5'] });
    for (const job of ['customers', 'contacts']) expect((await runJob(app, job)).totals.written).toBe(0);
  });

  it('take a hub edit made after the merge, before the contacts ran, with no conflict', async (t) => {
    if (!(await requireDialect(hubDialect))) return t.skip();
    world = await createWorld(hubDialect);
    const { app } = world;
    // The contact's rows name K1, the merged customer's key, in both sources and in their bases.
    const survivor = await mergedAndSurvivor(world);
    const other = await createInHub(app, 'Customer', { code: 'K9', name: 'Other' });
    await settle(app);
    const merged = String(((await app.hub.knex('crm_customer').where({ code: 'K1' }).first('id')) as { id: string }).id);
    const contact = await createInHub(app, 'Contact', { mobile: '13900000009', name: 'Ann', customerId: merged });
    await settle(app);
    expect(await customerOf(world, '13900000009')).toEqual({ hub: 'K1', erp: ['K1'], crm: ['K1'] });

    // After the merge K1 stands for the survivor; the hub then moves the contact to a third
    // customer before the contacts job has run. The unchanged rows are not a change to the
    // survivor: the edit is the only change, and it reaches both sources.
    await mergeCustomers(app, survivor, 'K1');
    const { store } = app.hub;
    const current = (await app.hub.getMany('Contact', [contact])).get(contact) ?? null;
    await store.transaction((trx) => store.golden.write(trx, 'Contact', [{ gid: contact, current, patch: { customerId: other } }], { actor: 'tester', action: 'update' }));
    await settle(app);
    expect(await customerOf(world, '13900000009')).toEqual({ hub: 'K9', erp: ['K9'], crm: ['K9'] });
    expect(await app.hub.knex('crm_conflict').where({ status: 'open' })).toEqual([]);
    for (const job of ['customers', 'contacts']) expect((await runJob(app, job)).totals.written).toBe(0);
  });

  it('follow the survivor after an unmerge that leaves it with no row in the sources', async (t) => {
    if (!(await requireDialect(hubDialect))) return t.skip();
    world = await createWorld(hubDialect);
    const { app } = world;
    // K1 is in both sources; K5 only in the hub when K1 is merged into it, so the merged
    // record's rows are the survivor's only rows there, and the contact's rows name K1.
    await world.crm('customer').insert({ code: 'K1', name: 'Merged' });
    await settle(app);
    const survivor = await createInHub(app, 'Customer', { code: 'K5', name: 'Survivor' });
    await createInHub(app, 'Contact', { mobile: '13900000009', name: 'Ann', customerId: survivor });
    const mergeId = await mergeAndSettle(app, survivor, 'K1');
    expect(await customerOf(world, '13900000009')).toEqual({ hub: 'K5', erp: ['K1'], crm: ['K1'] });

    // Undone: K1's rows are the merged record's again. The survivor must get rows of its own
    // (nothing about it changed in the hub, but it lost its rows), and the contact, whose rows
    // name K1 because crmlink wrote it so, stays with the survivor and its rows follow.
    await unmergeAndSettle(app, mergeId);
    for (const k of [world.erp, world.crm]) expect(await k('customer').orderBy('code')).toEqual([{ code: 'K1', name: 'Merged' }, { code: 'K5', name: 'Survivor' }]);
    expect(await customerOf(world, '13900000009')).toEqual({ hub: 'K5', erp: ['K5'], crm: ['K5'] });
    for (const job of ['customers', 'contacts']) expect((await runJob(app, job)).totals.written).toBe(0);
  });
});
