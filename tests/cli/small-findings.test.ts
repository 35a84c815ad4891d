/**
 * Smaller findings of a steward's first day: output to a closed pipe ends quietly, a table name
 * in the wrong case gets a "did you mean", and the conflict list names the record by code and name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';
import { register as registerConflicts } from '../../cli/commands/conflicts.js';
import { runJob } from '../../sync/engine.js';
import { createTestDatabase, fixtureKnex, requireDialect } from '../support/databases.js';
import { createTwoSystems, haveBothServers, type TwoSystems } from '../identity/two-systems.js';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('small findings', () => {
  it('output to a closed pipe ends quietly (crmlink … | head)', async () => {
    const child = spawn(process.execPath, [BIN, 'config', 'schema'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the command writes anything, as `head` does after its lines.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|Error/);
    expect(code).toBe(0);
  });

  it('sources introspect suggests the near table name', async () => {
    if (!(await requireDialect('postgres'))) return;
    const db = await createTestDatabase('postgres', 'intro');
    cleanup.push(() => db.drop());
    const k = fixtureKnex(db);
    cleanup.push(() => k.destroy());
    await k.schema.createTable('customer', (t) => t.string('code', 10).primary());
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-intro-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'crmlink.yaml'), `sources:\n  erp: { kind: erp, dialect: postgres, connection: ${JSON.stringify(db.connection)} }\n`);
    const out: string[] = [];
    const ctx = { ...defaultContext(), out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const code = await main(['node', 'crmlink', 'sources', 'introspect', 'erp', '--table', 'Customer', '-c', join(dir, 'crmlink.yaml')], ctx);
    expect(code).toBe(2); // an unknown table is a usage error (cli/exit-codes.ts)
    expect(out.join('\n')).toContain('table "Customer" not found in source "erp"; did you mean "customer"?');
  });

  it('conflicts list shows the record by code and name', async () => {
    if (!(await haveBothServers())) return;
    const sys: TwoSystems = await createTwoSystems(
      [{ code: 'C02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' }],
      [{ code: 'F02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'finance@alibaba.example' }],
      { label: 'cfl' },
    );
    cleanup.push(() => sys.close());
    const app = await sys.open();
    await runJob(app, 'customers');
    const out: string[] = [];
    const program = new Command().exitOverride();
    registerConflicts(program, { openApp: async () => app, closeApp: async () => {}, out: (s) => out.push(s) });
    await program.parseAsync(['node', 'crmlink', 'conflicts', 'list']);
    expect(out.join('\n')).toMatch(/#\d+ {2}Customer C02 杭州阿里巴巴网络有限公司 \(cus_\w+\) {2}field email/);
  });
});
