/**
 * Excel workbooks and CSV files: generated here (exceljs writes workbooks, iconv-lite encodes GBK),
 * read back through the xlsx and csv connectors. Headers (Chinese, merged, repeated), blank rows
 * and notes, types inferred and declared, Excel dates and formulas, encodings and delimiters, bad
 * cells reported with sheet, row and column and parked by the sync while the rest goes in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { parseConfig } from '../../config/load.js';
import { CrmlinkError } from '../../core/errors.js';
import type { Connector } from '../../connectors/connector.js';
import { XlsxConnector } from '../../connectors/sheets/xlsx-connector.js';
import { CsvConnector } from '../../connectors/sheets/csv-connector.js';
import { openApp, closeApp } from '../../app/app.js';
import { runJob } from '../../sync/engine.js';
import { silentLogger } from '../../core/logger.js';
import { createTestDatabase } from '../support/databases.js';
import { readParked } from '../../hub/parked.js';
import { fileConnector, readAll } from '../support/file-sources.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-sheets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Company names with characters from all over GBK (and full-width brackets). */
const NAMES = ['上海浦东鑫犇贸易有限公司', '北京（中关村）淼焱科技股份有限公司', '广州市瑞琪喆餐饮管理有限公司', '深圳市龍華區電子廠', '重庆渝北区巴渝火锅店·总店', '哈尔滨冰城啤酒厂（集团）'];

const connector = (kind: 'xlsx' | 'csv', filename: string, file: Record<string, unknown> = {}): Connector => fileConnector(dir, 'src', kind, filename, file);
const all = readAll;

describe('CSV encodings, BOM and delimiters', () => {
  it('a GBK file of Chinese company names reads back without one changed character (encoding detected)', async () => {
    const text = ['编号,公司名称', ...NAMES.map((n, i) => `${i + 1},${n}`)].join('\r\n');
    const bytes = iconv.encode(text, 'gbk');
    expect(bytes.equals(Buffer.from(text, 'utf8'))).toBe(false);
    writeFileSync(join(dir, 'gbk.csv'), bytes);
    const c = connector('csv', 'gbk.csv');
    expect((await c.test()).version).toContain('GB18030 (detected)');
    const rows = await all(c, 'gbk', ['编号']);
    expect(rows.map((r) => r['公司名称'])).toEqual(NAMES);
    // and the same bytes again when encoded back
    expect(Buffer.compare(iconv.encode(rows.map((r) => `${r['编号']},${r['公司名称']}`).join('\r\n'), 'gbk'), iconv.encode(text.split('\r\n').slice(1).join('\r\n'), 'gbk'))).toBe(0);
    // Declared GBK reads the same.
    expect((await all(connector('csv', 'gbk.csv', { encoding: 'gbk' }), 'gbk', ['编号'])).map((r) => r['公司名称'])).toEqual(NAMES);
  });

  it('GB18030 characters outside GBK; UTF-8 with a BOM keeps the first header clean', async () => {
    writeFileSync(join(dir, 'gb18030.csv'), iconv.encode('编号,名称\n1,𠮷野家（中国）\n', 'gb18030'));
    expect((await all(connector('csv', 'gb18030.csv'), 'gb18030', ['编号']))[0]).toEqual({ 编号: 1, 名称: '𠮷野家（中国）' });
    writeFileSync(join(dir, 'bom.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('客户编号,名称\nC001,甲公司\n', 'utf8')]));
    const c = connector('csv', 'bom.csv');
    expect((await c.introspect({ table: 'bom' }))[0].columns.map((col) => col.name)).toEqual(['客户编号', '名称']);
    expect((await c.test()).version).toContain('UTF-8 (BOM)');
  });

  it('detects ; and tab, takes a configured delimiter and quote, keeps quoted delimiters and newlines', async () => {
    writeFileSync(join(dir, 'semi.csv'), '编号;名称;金额\n1;"甲;乙 公司";1.50\n2;"多行\n备注";2\n');
    expect(await all(connector('csv', 'semi.csv'), 'semi', ['编号'])).toEqual([
      { 编号: 1, 名称: '甲;乙 公司', 金额: '1.5' },
      { 编号: 2, 名称: '多行\n备注', 金额: '2' },
    ]);
    writeFileSync(join(dir, 'tab.csv'), '编号\t名称\n1\t甲公司\n');
    expect(await all(connector('csv', 'tab.csv'), 'tab', ['编号'])).toEqual([{ 编号: 1, 名称: '甲公司' }]);
    writeFileSync(join(dir, 'pipe.csv'), "code|name\n1|'a|b'\n");
    expect(await all(connector('csv', 'pipe.csv', { delimiter: '|', quote: "'", table: '客户' }), '客户', ['code'])).toEqual([{ code: 1, name: 'a|b' }]);
  });

  it('types: inferred (codes with leading zeros stay text), declared, and a bad cell reported with file, row and column', async () => {
    writeFileSync(join(dir, 'typed.csv'), '编号,代码,日期,评分,是否有效\n1,00123,2024-01-05,4.5,是\n2,00456,2024/1/6,N/A,否\n3,00789,2024-01-07,3,是\n');
    const c = connector('csv', 'typed.csv', { tables: { typed: { key: ['编号'], types: { 评分: 'decimal', 是否有效: 'boolean' } } } }) as CsvConnector;
    const [info] = await c.introspect({ table: 'typed' });
    expect(Object.fromEntries(info.columns.map((col) => [col.name, col.crmType]))).toEqual({ 编号: 'int', 代码: 'string', 日期: 'date', 评分: 'decimal', 是否有效: 'boolean' });
    expect(info.primaryKey).toEqual(['编号']);
    expect(await all(c, 'typed', ['编号'])).toEqual([
      { 编号: 1, 代码: '00123', 日期: '2024-01-05', 评分: '4.5', 是否有效: true },
      { 编号: 2, 代码: '00456', 日期: '2024-01-06', 评分: 'N/A', 是否有效: false },
      { 编号: 3, 代码: '00789', 日期: '2024-01-07', 评分: '3', 是否有效: true },
    ]);
    expect(await c.issues('typed')).toEqual([{ table: 'typed', sheet: 'typed.csv', row: 3, column: '评分', value: 'N/A', message: 'not a number' }]);
  });

  it('an unreadable record is skipped and listed with its line; blank and duplicate keys are left out and listed', async () => {
    writeFileSync(join(dir, 'broken.csv'), '编号,名称\n1,甲\n2,"乙"公司\n3,丙\n');
    const broken = connector('csv', 'broken.csv') as CsvConnector;
    // The rows before it are read; csv-parse cannot tell where a broken quote ends, so what follows is listed too.
    expect(await broken.select({ table: 'broken', columns: ['编号', '名称'] })).toEqual([{ 编号: 1, 名称: '甲' }]);
    const issues = await broken.issues('broken');
    expect(issues.map((i) => [i.sheet, i.row, i.message.slice(0, 35)])).toEqual([
      ['broken.csv', 3, 'record skipped: Invalid Closing Quo'],
      ['broken.csv', 4, 'record skipped: Quote Not Closed: t'],
    ]);
    writeFileSync(join(dir, 'keys.csv'), '编号,名称\n1,甲\n,无编号\n1,重复\n2,乙\n');
    const keys = connector('csv', 'keys.csv', { tables: { keys: { key: ['编号'] } } }) as CsvConnector;
    expect(await all(keys, 'keys', ['编号'])).toEqual([
      { 编号: 1, 名称: '甲' },
      { 编号: 2, 名称: '乙' },
    ]);
    expect((await keys.issues('keys')).map((i) => [i.row, i.message])).toEqual([
      [3, 'blank key: row left out'],
      [4, 'key already on an earlier row: row left out'],
    ]);
  });
});

describe('Excel workbooks', () => {
  beforeAll(async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('满意度调查');
    ws.addRow(['2024 年客户满意度调查']); // a title above the table
    ws.addRow([]);
    ws.addRow(['客户编号', '调查日期', '渠道', '评分', '', '备注', '联系方式']);
    ws.mergeCells('G3:H3'); // a merged header cell over two columns
    ws.addRow(['C001', new Date(Date.UTC(2024, 0, 5)), '电话', 4.5, null, '很好', '王经理', '13800000000']);
    ws.addRow(['C002', 45300, '微信', { formula: 'ROUND(3.96,1)', result: 4 }, null, { richText: [{ text: '一般，' }, { text: '送货慢' }] }, null, null]);
    ws.addRow([]); // a blank row inside the table
    ws.addRow(['C003', new Date(Date.UTC(2024, 0, 9, 14, 30)), '上门', 'N/A', null, null, null, null]);
    ws.addRow([]);
    ws.addRow(['注：评分为 1-5 分']); // a note below the table
    ws.getCell('B5').numFmt = 'yyyy-mm-dd'; // a date serial shown as a date
    const other = wb.addWorksheet('产品');
    other.addRow(['x', 'y']);
    other.addRow(['编号', '名称', '单价', '数量', '金额']);
    other.addRow(['P1', '打印机', 1200.5, 2, { formula: 'C3*D3', result: 2401 }]);
    other.addRow(['P2', '墨盒', 35, 10, { formula: 'C4*D4', result: 350 }]);
    other.addRow(['合计', null, null, null, { formula: 'SUM(E3:E4)', result: 2751 }]);
    await wb.xlsx.writeFile(join(dir, 'survey.xlsx'));
  });

  const surveyConfig = {
    tables: {
      survey: { sheet: '满意度调查', headerRow: 3, key: ['客户编号'], types: { 调查日期: 'date', 评分: 'decimal' } },
      products: { sheet: '产品', range: 'A2:E4' },
    },
  };

  it('a sheet below a title: Chinese and merged headers, Excel dates, formula results, rich text, blank rows skipped, notes reported', async () => {
    const c = connector('xlsx', 'survey.xlsx', surveyConfig) as XlsxConnector;
    expect((await c.introspect()).map((t) => t.name)).toEqual(['survey', 'products']);
    const [info] = await c.introspect({ table: 'survey' });
    expect(info.columns.map((col) => `${col.name}:${col.crmType}`)).toEqual(['客户编号:string', '调查日期:date', '渠道:string', '评分:decimal', '备注:string', '联系方式:string', '联系方式_2:string']);
    expect(info.notices?.[0]).toContain('row 9: "注：评分为 1-5 分" read as a note below the table');
    expect(await all(c, 'survey', ['客户编号'])).toEqual([
      { 客户编号: 'C001', 调查日期: '2024-01-05', 渠道: '电话', 评分: '4.5', 备注: '很好', 联系方式: '王经理', 联系方式_2: '13800000000' },
      { 客户编号: 'C002', 调查日期: '2024-01-09', 渠道: '微信', 评分: '4', 备注: '一般，送货慢', 联系方式: null, 联系方式_2: null },
      { 客户编号: 'C003', 调查日期: '2024-01-09', 渠道: '上门', 评分: 'N/A', 备注: null, 联系方式: null, 联系方式_2: null },
    ]);
    expect(await c.issues('survey')).toEqual([{ table: 'survey', sheet: '满意度调查', row: 7, column: '评分', value: 'N/A', message: 'not a number' }]);
  });

  it('a range: formulas give their cached results, the totals row outside the range is not read', async () => {
    const c = connector('xlsx', 'survey.xlsx', surveyConfig);
    expect(await all(c, 'products', ['编号'])).toEqual([
      { 编号: 'P1', 名称: '打印机', 单价: '1200.5', 数量: 2, 金额: 2401 },
      { 编号: 'P2', 名称: '墨盒', 单价: '35', 数量: 10, 金额: 350 },
    ]);
    const [sum] = await c.aggregate({ table: 'products', aggregates: [{ fn: 'sum', column: '金额', as: 'total' }] });
    expect(sum.total).toBe('2751');
  });

  it('without table config every worksheet is a table; a missing sheet or a file that is not xlsx is an error naming it', async () => {
    const plain = connector('xlsx', 'survey.xlsx');
    expect((await plain.introspect()).map((t) => t.name)).toEqual(['满意度调查', '产品']);
    const e = await connector('xlsx', 'survey.xlsx', { tables: { x: { sheet: '客户' } } })
      .introspect()
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CrmlinkError);
    expect((e as Error).message).toContain('no worksheet "客户" (worksheets: 满意度调查, 产品)');
    expect((e as Error).message).toContain('survey.xlsx');
    writeFileSync(join(dir, 'old.xlsx'), Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]));
    const old = await connector('xlsx', 'old.xlsx').test();
    expect(old.ok).toBe(false);
    expect(old.error?.message).toContain('is not an Excel workbook (.xlsx)');
    expect(old.error?.message).toContain('old.xlsx');
  });

  it('reads a workbook whose archive stores the worksheets before workbook.xml (the streaming reader cannot)', async () => {
    // jszip is exceljs's own zip library: rewrite the archive with the sheets first.
    const { default: JSZip } = await import('jszip');
    const zip = await JSZip.loadAsync(readFileSync(join(dir, 'survey.xlsx')));
    const names = Object.keys(zip.files).filter((n) => !zip.files[n].dir);
    const order = [...names.filter((n) => n.startsWith('xl/worksheets/')), ...names.filter((n) => !n.startsWith('xl/worksheets/'))];
    const out = new JSZip();
    for (const n of order) out.file(n, await zip.files[n].async('nodebuffer'));
    writeFileSync(join(dir, 'reordered.xlsx'), await out.generateAsync({ type: 'nodebuffer' }));
    const c = connector('xlsx', 'reordered.xlsx', surveyConfig);
    expect((await all(c, 'products', ['编号'])).map((r) => [r['编号'], r['金额']])).toEqual([
      ['P1', 2401],
      ['P2', 350],
    ]);
    expect((await all(c, 'survey', ['客户编号'])).map((r) => r['调查日期'])).toEqual(['2024-01-05', '2024-01-09', '2024-01-09']);
  });

  it('change detection: a touched but unchanged workbook is not scanned again', async () => {
    const c = connector('xlsx', 'survey.xlsx', surveyConfig);
    const spec = { table: 'products', key: ['编号'], columns: ['编号', '金额'], strategy: 'hash' as const, lookBackSeconds: 0 };
    const first = await c.changesSince(spec, null);
    expect(first.snapshot).toBe(true);
    expect(first.changes.length).toBe(2);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'survey.xlsx'), later, later);
    const again = await c.changesSince(spec, first.checkpoint);
    expect(again).toMatchObject({ changes: [], snapshot: false, hasMore: false });
    const e = await c.changesSince({ ...spec, strategy: 'timestamp', column: '金额' }, null).catch((err: unknown) => err);
    expect((e as CrmlinkError).message).toContain('captures changes by row hash only');
  });
});

describe('a sheet in a sync job: a bad row is parked, the others go in', () => {
  it('pulls products from a workbook, parks the row whose price is not a number, naming its key', async () => {
    const work = mkdtempSync(join(tmpdir(), 'crmlink-sheet-sync-'));
    const hubDb = await createTestDatabase('sqlite', 'sheethub');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('产品');
    ws.addRow(['编号', '名称', '单价']);
    ws.addRow(['P1', '打印机', 1200.5]);
    ws.addRow(['P2', '墨盒', '待定']);
    ws.addRow(['P3', '硒鼓', 88]);
    await wb.xlsx.writeFile(join(work, 'products.xlsx'));
    const yaml = `
hub: { dialect: sqlite, connection: ${JSON.stringify(hubDb.connection)} }
sources:
  sheet:
    kind: erp
    connector: xlsx
    connection: { filename: products.xlsx }
    file: { tables: { 产品: { key: [编号], types: { 单价: decimal } } } }
entities:
  Product:
    sources:
      sheet: { table: 产品, key: [编号], fields: { code: 编号, name: 名称, price: { column: 单价, type: decimal, scale: 2 } } }
sync:
  jobs:
    products: { entity: Product, sources: [sheet], direction: pull }
log: { level: silent }
`;
    const app = await openApp(parseConfig(yaml, { baseDir: work }), { logger: silentLogger });
    try {
      const report = await runJob(app, 'products');
      expect(report.status).toBe('partial');
      const rows = await app.hub.knex('crm_product').select('code', 'price').orderBy('code');
      expect(rows).toEqual([
        { code: 'P1', price: '1200.5' },
        { code: 'P3', price: '88' },
      ]);
      const parked = await readParked(app.hub.knex, { job: 'products' });
      expect(parked.map((p) => p.sourceKey)).toEqual(['P2']);
      expect(JSON.stringify(parked[0])).toContain('price');
    } finally {
      await closeApp(app);
      await hubDb.drop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
