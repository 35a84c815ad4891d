/**
 * Capture positions in crm_checkpoint: what a job reads before its first run, that a position
 * written round-trips exactly (the connector's opaque value, the scan flag, the initial-load time,
 * the key types), that writing again replaces rather than adds, that each (job, source) and the
 * hub's own position are kept apart, and that a position written in a transaction that does not
 * commit is not there afterwards: a checkpoint never runs ahead of the data it covers.
 */
import { describe, expect, it } from 'vitest';
import { HUB_CHECKPOINT, listCheckpoints, readHubCheckpoint, readSourceCheckpoint, writeHubCheckpoint, writeSourceCheckpoint } from '../../hub/checkpoints.js';
import { useTestHub } from '../support/hub.js';

describe.each(['sqlite', 'postgres'] as const)('checkpoints on a %s hub', (dialect) => {
  const ctx = useTestHub(dialect, 'checkpoints', {});

  it('a source without a checkpoint starts from nothing: no position, no scan, not loaded', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    expect(await readSourceCheckpoint(hub.knex, 'never', 'erp')).toEqual({ position: null, inScan: false, loadedAt: null });
    expect(await readHubCheckpoint(hub.knex, 'never')).toBe(0);
  });

  it('a source checkpoint round-trips exactly, key types only when it has them', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    const position = { strategy: 'timestamp', hwm: '2024-01-01 10:00:00.123', cursor: { ts: '2024-01-01 10:00:00.123', key: ['C 1', 2] }, seen: { 'C 1': 'abc' } };
    await writeSourceCheckpoint(hub.knex, 'rt', 'erp', { position, inScan: true, loadedAt: '2024-05-01T00:00:00.000Z', keyTypes: { code: 'varchar' } });
    expect(await readSourceCheckpoint(hub.knex, 'rt', 'erp')).toEqual({ position, inScan: true, loadedAt: '2024-05-01T00:00:00.000Z', keyTypes: { code: 'varchar' } });

    await writeSourceCheckpoint(hub.knex, 'rt', 'finance', { position: 0, inScan: false, loadedAt: null });
    const plain = await readSourceCheckpoint(hub.knex, 'rt', 'finance');
    expect(plain).toEqual({ position: 0, inScan: false, loadedAt: null });
    expect(Object.keys(plain)).not.toContain('keyTypes');
  });

  it('a stored value missing fields reads with their defaults', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    await hub.knex('crm_checkpoint').insert({ job: 'old', source: 'erp', value: '{}', updated_at: '2024-01-01T00:00:00.000Z' });
    expect(await readSourceCheckpoint(hub.knex, 'old', 'erp')).toEqual({ position: null, inScan: false, loadedAt: null });
    await hub.knex('crm_checkpoint').insert({ job: 'old', source: HUB_CHECKPOINT, value: '{}', updated_at: '2024-01-01T00:00:00.000Z' });
    expect(await readHubCheckpoint(hub.knex, 'old')).toBe(0);
  });

  it('writing again replaces the position: one row per (job, source), its time moves on', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    await writeSourceCheckpoint(hub.knex, 'again', 'erp', { position: { at: 1 }, inScan: true, loadedAt: null });
    const [first] = await listCheckpoints(hub.knex, 'again');
    await hub.knex('crm_checkpoint').where({ job: 'again' }).update({ updated_at: '2000-01-01T00:00:00.000Z' });
    await writeSourceCheckpoint(hub.knex, 'again', 'erp', { position: { at: 2 }, inScan: false, loadedAt: '2024-05-02T00:00:00.000Z' });
    const rows = await listCheckpoints(hub.knex, 'again');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ job: 'again', source: 'erp', value: { position: { at: 2 }, inScan: false, loadedAt: '2024-05-02T00:00:00.000Z' } });
    expect(rows[0].updatedAt > '2000-01-01T00:00:00.000Z').toBe(true);
    expect(first.value).toEqual({ position: { at: 1 }, inScan: true, loadedAt: null });
    expect(await readSourceCheckpoint(hub.knex, 'again', 'erp')).toEqual({ position: { at: 2 }, inScan: false, loadedAt: '2024-05-02T00:00:00.000Z' });

    await writeHubCheckpoint(hub.knex, 'again', 41);
    await writeHubCheckpoint(hub.knex, 'again', 42);
    expect(await readHubCheckpoint(hub.knex, 'again')).toBe(42);
    expect(await listCheckpoints(hub.knex, 'again')).toHaveLength(2);
  });

  it("jobs, sources and the hub's position are kept apart; the list is by job then source", async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    await writeSourceCheckpoint(hub.knex, 'b-job', 'oa', { position: 'oa-b', inScan: false, loadedAt: null });
    await writeSourceCheckpoint(hub.knex, 'a-job', 'oa', { position: 'oa-a', inScan: false, loadedAt: null });
    await writeSourceCheckpoint(hub.knex, 'a-job', 'erp', { position: 'erp-a', inScan: false, loadedAt: null });
    await writeHubCheckpoint(hub.knex, 'a-job', 7);
    await writeHubCheckpoint(hub.knex, 'b-job', 9);

    expect((await readSourceCheckpoint(hub.knex, 'a-job', 'oa')).position).toBe('oa-a');
    expect((await readSourceCheckpoint(hub.knex, 'b-job', 'oa')).position).toBe('oa-b');
    expect((await readSourceCheckpoint(hub.knex, 'a-job', 'erp')).position).toBe('erp-a');
    expect((await readSourceCheckpoint(hub.knex, 'b-job', 'erp')).position).toBeNull();
    expect(await readHubCheckpoint(hub.knex, 'a-job')).toBe(7);
    expect(await readHubCheckpoint(hub.knex, 'b-job')).toBe(9);

    const a = await listCheckpoints(hub.knex, 'a-job');
    expect(a.map((r) => [r.job, r.source, r.value])).toEqual([
      ['a-job', HUB_CHECKPOINT, { seq: 7 }],
      ['a-job', 'erp', { position: 'erp-a', inScan: false, loadedAt: null }],
      ['a-job', 'oa', { position: 'oa-a', inScan: false, loadedAt: null }],
    ]);
    expect(a.every((r) => typeof r.updatedAt === 'string' && !Number.isNaN(Date.parse(r.updatedAt)))).toBe(true);
    const all = (await listCheckpoints(hub.knex)).filter((r) => r.job === 'a-job' || r.job === 'b-job');
    expect(all.map((r) => `${r.job}/${r.source}`)).toEqual(['a-job/@hub', 'a-job/erp', 'a-job/oa', 'b-job/@hub', 'b-job/oa']);
  });

  it('a position written in a transaction that rolls back is not kept: the previous one stays', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    await writeSourceCheckpoint(hub.knex, 'tx', 'erp', { position: { at: 1 }, inScan: false, loadedAt: null });
    await writeHubCheckpoint(hub.knex, 'tx', 5);
    const failed = new Error('the page write failed');
    await expect(
      hub.knex.transaction(async (trx) => {
        await writeSourceCheckpoint(trx, 'tx', 'erp', { position: { at: 2 }, inScan: false, loadedAt: null });
        await writeHubCheckpoint(trx, 'tx', 6);
        // Inside the transaction the new positions are visible...
        expect((await readSourceCheckpoint(trx, 'tx', 'erp')).position).toEqual({ at: 2 });
        expect(await readHubCheckpoint(trx, 'tx')).toBe(6);
        throw failed;
      }),
    ).rejects.toBe(failed);
    // ...and gone with it.
    expect((await readSourceCheckpoint(hub.knex, 'tx', 'erp')).position).toEqual({ at: 1 });
    expect(await readHubCheckpoint(hub.knex, 'tx')).toBe(5);
  });
});
