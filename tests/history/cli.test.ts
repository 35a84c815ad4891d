/**
 * `crmlink history` and `crmlink restore` through commander, against a SQLite hub with PostgreSQL
 * (ERP) and MariaDB (finance) sources: output, JSON, exit codes (0 ok, 1 refused, 2 usage).
 */
import { describe, expect, it } from 'vitest';
import { register as registerHistory } from '../../cli/commands/history.js';
import { runJob } from '../../sync/engine.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, seedErp, CODE_A, type World } from '../sync/support.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { runCommands } from '../support/cli.js';

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));
const cli = (w: World, ...args: string[]) => runCommands([registerHistory], () => w.open(), args, { version: '0.0.0' });

describe.runIf(available)('crmlink history and restore', () => {
  it('prints versions, plans the undo of a run, restores a field, and refuses what it cannot do', async () => {
    const w = closeAfterTest(await createWorld({ erp: 'postgres', finance: 'mysql', label: 'histcli' }));
    await seedErp(w.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
    const app = await w.open();
    expect((await runJob(app, 'customers')).status).toBe('ok');
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-2', updated_at: new Date().toISOString() });
    const bad = await runJob(app, 'customers');
    const id = String(((await app.hub.knex('crm_customer').first()) as { id: string }).id);

    const text = await cli(w, 'history', 'Customer', id);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^v2 +#\d+ .* sync +by sync:customers, run \d+, from erp\n {4}phone: "010-1" → "010-2"/);
    const json = await cli(w, 'history', 'Customer', id, '--json');
    expect(JSON.parse(json.out).map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const dry = await cli(w, 'restore', 'run', String(bad.runId), '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^dry run: nothing changed/);
    expect((await app.hub.get('Customer', id))?.values.phone).toBe('010-2');

    const field = await cli(w, 'restore', 'record', 'Customer', id, '--to', '1', '--fields', 'phone', '--actor', 'ops');
    expect(field.code).toBe(0);
    expect(field.out).toMatch(/version 3, set back phone/);
    expect((await app.hub.get('Customer', id))?.values.phone).toBe('010-1');
    expect((await app.hub.store.history.list(app.hub.knex, 'Customer', id, { first: 1 }))[0]).toMatchObject({ actor: 'ops', action: 'restore' });

    const refused = await cli(w, 'restore', 'undelete', 'Customer', id);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/VALIDATION_FAILED.*is not deleted/);
    expect((await cli(w, 'restore', 'record', 'Customer', id, '--to', '99')).code).toBe(1);
    expect((await cli(w, 'restore', 'record', 'Nope', id, '--to', '1')).code).toBe(2);
    expect((await cli(w, 'history', 'Customer')).code).toBe(2);
  });
});
