/**
 * `crmlink analysis refresh|status|customers|credit` on a SQLite hub file holding the hand-built
 * company (fixture.ts), and `crmlink sync run` refreshing what it touched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import ExcelJS from 'exceljs';
import { main } from '../../cli/main.js';
import { EXPORT_COLUMNS } from '../../analysis/index.js';
import { defaultContext, type CliContext } from '../../cli/context.js';
import { loadConfigFile } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { createWorld, seedErp, CODE_A, type World } from '../sync/support.js';
import * as F from './fixture.js';

function capture(): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { ctx: { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

let dir: string;
let config: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-analysis-cli-'));
  config = join(dir, 'crmlink.yaml');
  writeFileSync(
    config,
    `hub:\n  dialect: sqlite\n  connection: { filename: ./hub.db }\nsources:\n  erp:\n    kind: erp\n    dialect: sqlite\n    connection: { filename: ./erp.db }\nanalysis:\n  timezone: Asia/Shanghai\nlog:\n  level: silent\n`,
  );
  const hub = await Hub.open(loadConfigFile(config));
  await F.seed(hub);
  await hub.destroy();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = async (...args: string[]) => {
  const c = capture();
  const code = await main(['node', 'crmlink', 'analysis', ...args, '--config', config], c.ctx);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
};

describe('crmlink analysis', () => {
  test('refresh --full --as-of, then status, customers and credit', async () => {
    const r = await cli('refresh', '--full', '--as-of', F.TODAY);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain(`analysis refreshed (full, as of ${F.TODAY}): 9 customers`);
    expect(r.out).toContain('current value ≥ 248.33 (mean), potential value ≥ 1108.75 (mean)');
    expect(r.out).toContain('vip ≤ rank 1, major ≤ rank 1, ordinary ≤ rank 2');

    const s = await cli('status');
    expect(s.code).toBe(0);
    expect(s.out).toContain(`last refresh: full, as of ${F.TODAY}`);
    expect(s.out).toMatch(/vip\s+1\s+2600\s+1140/);
    expect(s.out).toMatch(/declining\s+1\s+1200\s+480/);

    const vip = await cli('customers', '--tier', 'vip,ordinary', '--json');
    expect((JSON.parse(vip.out) as { customerId: string }[]).map((c) => c.customerId)).toEqual(['cus_c01', 'cus_c09']);
    const over = await cli('customers', '--over-limit', '--sort', 'customer', '--asc');
    expect(over.out).toMatch(/cus_c01\s+Alpha 有限公司\s+vip/);
    expect(over.out).toContain('OVER LIMIT OVERDUE');
    expect(over.out).toContain('2 of 2');

    expect(await cli('credit', 'cus_c02', '380')).toMatchObject({ code: 0 });
    const no = await cli('credit', 'cus_c02', '380.01');
    expect(no.code).toBe(1);
    expect(no.out).toContain('does not fit (OVER_LIMIT): limit 500, receivable 120, available 380');
    expect((await cli('credit', 'cus_nope', '1')).code).toBe(1);
    expect((await cli('refresh', '--as-of', '2026-02-30')).code).toBe(2);
  });

  test('refresh --rebuild sums every order again and gives what --full gives', async () => {
    const full = await cli('refresh', '--full', '--as-of', F.TODAY);
    const rebuilt = await cli('refresh', '--rebuild', '--as-of', F.TODAY);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.out).toBe(full.out);
  });

  test('customers --xlsx and --csv: the exports open in exceljs and match the list', async () => {
    expect((await cli('refresh', '--full', '--as-of', F.TODAY)).code).toBe(0);
    const xlsx = join(dir, 'overdue.xlsx');
    const csv = join(dir, 'overdue.csv');
    const r = await cli('customers', '--overdue', '--sort', 'receivable', '--xlsx', xlsx, '--csv', csv);
    expect(r.out).toContain('3 customers written to');
    const list = JSON.parse((await cli('customers', '--overdue', '--sort', 'receivable', '--json')).out) as { customerId: string; credit: { receivable: string; overdue: string } }[];
    expect(list.map((c) => c.customerId)).toEqual(['cus_c01', 'cus_c05', 'cus_c02']);

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ws = wb.getWorksheet('customers')!;
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(EXPORT_COLUMNS.map((c) => c.header));
    const col = (key: string) => EXPORT_COLUMNS.findIndex((c) => c.key === key) + 1;
    const rows = [2, 3, 4].map((n) => ws.getRow(n));
    expect(rows.map((row) => row.getCell(col('customerId')).value)).toEqual(list.map((c) => c.customerId));
    expect(rows.map((row) => row.getCell(col('receivable')).value)).toEqual(list.map((c) => Number(c.credit.receivable)));
    expect(rows[0].getCell(col('name')).value).toBe('Alpha 有限公司');
    expect(rows[0].getCell(col('receivable')).numFmt).toBe('#,##0.00');

    const fromCsv = new ExcelJS.Workbook();
    const sheet = await fromCsv.csv.readFile(csv);
    expect(sheet.rowCount).toBe(4);
    expect(sheet.getRow(2).getCell(col('customerId')).value).toBe('cus_c01');
    expect(String(sheet.getRow(4).getCell(col('overdue')).value)).toBe(list[2].credit.overdue);
  });
});

describe('crmlink sync run', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld({ label: 'ancli', direction: 'pull' });
  });
  afterAll(async () => world?.close());

  test('refreshes the analysis of the customers the run touched', async () => {
    const file = join(dir, 'sync.yaml');
    writeFileSync(file, world.yaml);
    await seedErp(world.erp, [{ code: 'C1', name: 'One Ltd', creditCode: CODE_A, limit: '1000' }]);
    const c = capture();
    expect(await main(['node', 'crmlink', 'sync', 'run', 'customers', '--config', file], c.ctx)).toBe(0);
    const app = await world.open();
    const rows = (await app.hub.knex('crm_analysis').select('credit_limit_cents', 'stage')) as { credit_limit_cents: number; stage: string }[];
    expect(rows).toEqual([{ credit_limit_cents: 100000, stage: 'prospect' }]);
  });
});
