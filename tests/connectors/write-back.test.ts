/**
 * Write-back to xlsx and CSV sources (opt-in per source, file.writeBack): the new version written
 * atomically with the previous one kept as <file>.bak, the file's encoding and the workbook's other
 * sheets and formulas kept, nothing written while Excel has the file open, and a process killed in
 * the middle of writing leaves the old file or the new one, never a broken one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { createConnector } from '../../connectors/registry.js';
import { sourceSchema } from '../../config/schema.js';
import { CrmlinkError } from '../../core/errors.js';
import type { Connector } from '../../connectors/connector.js';
import { fileConnector, readAll } from '../support/file-sources.js';

const NAMES = ['上海浦东鑫犇贸易有限公司', '北京（中关村）淼焱科技股份有限公司', '广州市瑞琪喆餐饮管理有限公司', '深圳市龍華區電子廠', '重庆渝北区巴渝火锅店·总店'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-writeback-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const connector = (kind: 'xlsx' | 'csv', filename: string, file: Record<string, unknown> = {}): Connector => fileConnector(dir, 'book', kind, filename, { writeBack: true, ...file });
const all = readAll;

describe('CSV write-back', () => {
  it('updates, inserts and deletes in a GBK file; every other company name stays byte for byte; the previous version is the .bak', async () => {
    const text = ['编号,公司名称,城市', ...NAMES.map((n, i) => `${i + 1},${n},上海`)].join('\r\n') + '\r\n';
    const before = iconv.encode(text, 'gbk');
    writeFileSync(join(dir, 'co.csv'), before);
    const c = connector('csv', 'co.csv');
    expect(c.capabilities).toMatchObject({ write: true, transactions: true });
    const up = await c.upsert(
      [
        { 编号: 2, 城市: '北京' },
        { 编号: 6, 公司名称: '哈尔滨冰城啤酒厂（集团）', 城市: '哈尔滨' },
      ],
      { table: 'co', key: ['编号'] },
    );
    expect(up.map((o) => o.status)).toEqual(['updated', 'inserted']);
    expect((await c.delete([[4]], { table: 'co', key: ['编号'] })).map((o) => o.status)).toEqual(['deleted']);
    expect((await c.delete([[99]], { table: 'co', key: ['编号'] })).map((o) => o.status)).toEqual(['missing']);
    const after = readFileSync(join(dir, 'co.csv'));
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(after)).toThrow(); // still GBK
    expect(iconv.decode(after, 'gbk')).toBe(
      ['编号,公司名称,城市', `1,${NAMES[0]},上海`, `2,${NAMES[1]},北京`, `3,${NAMES[2]},上海`, `5,${NAMES[4]},上海`, '6,哈尔滨冰城啤酒厂（集团）,哈尔滨'].join('\r\n') + '\r\n',
    );
    expect((await all(c, 'co', ['编号'])).map((r) => r['公司名称'])).toEqual([NAMES[0], NAMES[1], NAMES[2], NAMES[4], '哈尔滨冰城啤酒厂（集团）']);
    // The .bak is the version before the last write (the delete).
    expect(iconv.decode(readFileSync(join(dir, 'co.csv.bak')), 'gbk')).toContain(`4,${NAMES[3]},上海`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('is refused unless the source opts in, naming the setting', async () => {
    writeFileSync(join(dir, 'ro.csv'), '编号,名称\n1,甲\n');
    const ro = createConnector('ro', sourceSchema.parse({ kind: 'crm', connector: 'csv', connection: { filename: 'ro.csv' } }), { baseDir: dir });
    expect(ro.capabilities.write).toBe(false);
    const e = await ro.upsert([{ 编号: 1, 名称: '乙' }], { table: 'ro', key: ['编号'] }).catch((err: unknown) => err);
    expect((e as CrmlinkError).code).toBe('WRITE_FORBIDDEN');
    expect((e as Error).message).toContain('set sources.ro.file.writeBack: true');
    expect(readFileSync(join(dir, 'ro.csv'), 'utf8')).toBe('编号,名称\n1,甲\n');
  });
});

describe('xlsx write-back', () => {
  /** Each case writes its own copy of the workbook, so the cases run in any order. */
  async function makeBook(file: string): Promise<void> {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('客户');
    ws.addRow(['编号', '名称', '单价', '数量', '金额']);
    ws.addRow(['P1', '打印机', 1200.5, 2, { formula: 'C2*D2', result: 2401 }]);
    ws.addRow(['P2', '墨盒', 35, 10, { formula: 'C3*D3', result: 350 }]);
    ws.getCell('B2').font = { bold: true, color: { argb: 'FFFF0000' } };
    const other = wb.addWorksheet('汇总');
    other.addRow(['合计', { formula: 'SUM(客户!E2:E3)', result: 2751 }]);
    other.addRow(['备注', '由财务部维护']);
    await wb.xlsx.writeFile(join(dir, file));
  }

  it('changes only the cells written: other sheets, formulas and formatting stay as they were', async () => {
    await makeBook('book.xlsx');
    const c = connector('xlsx', 'book.xlsx');
    const res = await c.upsert(
      [
        { 编号: 'P2', 单价: '36.5' },
        { 编号: 'P3', 名称: '硒鼓', 单价: '88', 数量: 1 },
      ],
      { table: '客户', key: ['编号'] },
    );
    expect(res.map((o) => o.status)).toEqual(['updated', 'inserted']);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(join(dir, 'book.xlsx'));
    const ws = wb.getWorksheet('客户')!;
    expect(ws.getCell('C3').value).toBe(36.5);
    expect(ws.getCell('E2').value).toMatchObject({ formula: 'C2*D2' });
    expect(ws.getCell('E3').value).toMatchObject({ formula: 'C3*D3' });
    expect(ws.getCell('B2').font).toMatchObject({ bold: true, color: { argb: 'FFFF0000' } });
    expect([ws.getCell('A4').value, ws.getCell('B4').value, ws.getCell('C4').value, ws.getCell('D4').value]).toEqual(['P3', '硒鼓', 88, 1]);
    const other = wb.getWorksheet('汇总')!;
    expect(other.getCell('B1').value).toMatchObject({ formula: 'SUM(客户!E2:E3)', result: 2751 });
    expect(other.getCell('B2').value).toBe('由财务部维护');
    expect(existsSync(join(dir, 'book.xlsx.bak'))).toBe(true);
    expect((await all(c, '客户', ['编号'])).map((r) => [r['编号'], r['单价']])).toEqual([
      ['P1', '1200.5'],
      ['P2', '36.5'],
      ['P3', '88'],
    ]);
  });

  it('never overwrites a formula: the write fails naming the cell, the file unchanged', async () => {
    await makeBook('formula.xlsx');
    const c = connector('xlsx', 'formula.xlsx');
    const before = readFileSync(join(dir, 'formula.xlsx'));
    const e = await c.upsert([{ 编号: 'P1', 金额: 1 }], { table: '客户', key: ['编号'] }).catch((err: unknown) => err);
    expect((e as Error).message).toContain('cell E2 ("金额") holds a formula');
    expect(readFileSync(join(dir, 'formula.xlsx')).equals(before)).toBe(true);
  });

  it('while Excel has the workbook open (~$ lock file), nothing is written: LOCKED, retried later', async () => {
    await makeBook('locked.xlsx');
    const c = connector('xlsx', 'locked.xlsx');
    const before = readFileSync(join(dir, 'locked.xlsx'));
    writeFileSync(join(dir, '~$locked.xlsx'), 'owner');
    try {
      const e = await c.upsert([{ 编号: 'P1', 单价: '1' }], { table: '客户', key: ['编号'] }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(CrmlinkError);
      expect((e as CrmlinkError).code).toBe('LOCKED');
      expect((e as CrmlinkError).transient).toBe(true);
      expect((e as Error).message).toContain('open in Excel (lock file ~$locked.xlsx)');
      expect(readFileSync(join(dir, 'locked.xlsx')).equals(before)).toBe(true);
    } finally {
      rmSync(join(dir, '~$locked.xlsx'));
    }
    expect((await c.upsert([{ 编号: 'P1', 单价: '1' }], { table: '客户', key: ['编号'] }))[0].status).toBe('updated');
  });
});

describe('a write killed midway', () => {
  it('SIGKILL while writing leaves the old file or the new one, never a broken one', async () => {
    // Its own directory: a killed writer may leave its temporary file behind.
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-writeback-kill-'));
    const rows = Array.from({ length: 8_000 }, (_, i) => `${i + 1},${NAMES[i % NAMES.length]} ${i}`);
    writeFileSync(join(dir, 'big.csv'), iconv.encode(['编号,公司名称', ...rows].join('\r\n') + '\r\n', 'gbk'));
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'write-loop.ts'), dir, 'big.csv'], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Wait until it has written once, then kill it at a moment of its own choosing.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => resolve());
        child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      await new Promise((r) => setImmediate(r));
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;
      const text = iconv.decode(readFileSync(join(dir, 'big.csv')), 'gbk');
      const lines = text.split('\r\n');
      expect(lines.length).toBe(8_002); // header, rows, final empty
      expect(lines[1]).toMatch(/^1,上海浦东鑫犇贸易有限公司 第\d+版$/);
      expect(lines[8_000]).toBe(`8000,${NAMES[7_999 % NAMES.length]} 7999`);
      const c = createConnector('after', sourceSchema.parse({ kind: 'crm', connector: 'csv', connection: { filename: 'big.csv' } }), { baseDir: dir });
      expect((await c.introspect({ table: 'big' }))[0].columns.map((col) => col.name)).toEqual(['编号', '公司名称']);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
