/**
 * The exported connector contract (connectors/contract), read side, over every real implementation:
 * SQLite, PostgreSQL, MariaDB (SQL Server with MSSQL_URL), Access, xlsx, CSV (GBK), and a plugin
 * loaded from an npm package by its name in the config.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { connectorContract, connectorWriteContract } from '../../connectors/contract/index.js';
import { createConnector } from '../../connectors/registry.js';
import { sourceSchema, type Dialect, type SourceConfig } from '../../config/schema.js';
import { createTestDatabase, fixtureKnex, requireDialect, testDialects } from '../support/databases.js';
import { sourceFor } from './support.js';
import { installPlugin, PLUGIN_NAME } from './plugin-fixture.js';

const ACCESS = join(import.meta.dirname, '..', 'fixtures', 'access');

/** The customers every generated source holds: Chinese names, one NULL city. */
const CUSTOMERS = [
  { id: 1, name: '上海锦江贸易有限公司', city: '上海' },
  { id: 2, name: '北京华联商厦股份有限公司', city: '北京' },
  { id: 3, name: '广州（南方）物流有限公司', city: '广州' },
  { id: 4, name: 'Acme Trading Co.', city: null },
  { id: 5, name: '深圳市腾达电子有限公司', city: '深圳' },
  { id: 6, name: '杭州西湖茶业有限公司', city: '杭州' },
];
type Customer = (typeof CUSTOMERS)[number];
/** The change every fixture applies: 2 renamed, 5 deleted, 7 added. */
function changed(): Customer[] {
  return [...CUSTOMERS.filter((c) => c.id !== 5).map((c) => (c.id === 2 ? { ...c, name: '北京华联商厦（集团）股份有限公司' } : c)), { id: 7, name: '成都天府软件有限公司', city: '成都' }];
}
const CHANGE = { upserted: [[2], [7]], deleted: [[5]] };

const source = (extra: Record<string, unknown>): SourceConfig => sourceSchema.parse({ kind: 'crm', connection: {}, ...extra });

function tempDir(label: string): { dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `crmlink-${label}-`));
  return { dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A fresh database of `dialect` holding CUSTOMERS, with the contract's connector on it (null when the
 * server is unreachable): `fx` writes behind the connector's back, `contract.cleanup` drops it all.
 */
async function customersDatabase(dialect: Dialect, label: string) {
  if (!(await requireDialect(dialect))) return null;
  const db = await createTestDatabase(dialect, label);
  const fx = fixtureKnex(db);
  await fx.schema.createTable('customers', (t) => {
    t.integer('id').primary();
    t.string('name', 100).notNullable();
    t.string('city', 20);
  });
  await fx('customers').insert(CUSTOMERS);
  const contract = {
    connector: createConnector('erp', sourceFor(db)),
    table: 'customers',
    key: ['id'],
    textColumn: 'name',
    async cleanup() {
      await fx.destroy();
      await db.drop();
    },
  };
  return { fx, contract };
}

for (const dialect of testDialects()) {
  connectorContract(dialect, async () => {
    const made = await customersDatabase(dialect, 'conncontract');
    if (!made) return null;
    const { fx, contract } = made;
    return {
      ...contract,
      expectedCount: CUSTOMERS.length,
      sample: { id: 3, name: '广州（南方）物流有限公司', city: '广州' },
      async change() {
        await fx('customers').where({ id: 2 }).update({ name: changed()[1].name });
        await fx('customers').where({ id: 5 }).delete();
        await fx('customers').insert(changed()[5]);
        return CHANGE;
      },
    };
  });
}

connectorContract(
  'access',
  async () => {
    const { dir, cleanup } = tempDir('access');
    copyFileSync(join(ACCESS, 'asset-items.accdb'), join(dir, 'assets.accdb'));
    return {
      connector: createConnector('assets', source({ connector: 'access', connection: { filename: 'assets.accdb' } }), { baseDir: dir }),
      table: 'Asset Items',
      key: ['Asset No'],
      textColumn: 'Asset Category',
      expectedCount: 65,
      sample: { 'Asset No': '30050', Make: 'GEO Rocket', Acquired: '1997-09-02 00:00:00', Cost: '1995.5000', Warranty: 12, Comments: null },
      cleanup,
    };
  },
  { gaps: { 'change capture': 'no two Access fixtures hold the same table with different rows, and nothing here can write an Access file (tests/connectors/access.test.ts replaces one file by another)' } },
);

async function writeWorkbook(file: string, rows: Customer[]): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('客户');
  ws.addRow(['编号', '名称', '城市']);
  for (const c of rows) ws.addRow([c.id, c.name, c.city]);
  wb.addWorksheet('说明').addRow(['本表由销售部维护']);
  await wb.xlsx.writeFile(file);
}

function writeGbkCsv(file: string, rows: Customer[]): void {
  const text = ['编号,名称,城市', ...rows.map((c) => `${c.id},${c.name},${c.city ?? ''}`)].join('\r\n');
  writeFileSync(file, iconv.encode(text, 'gbk'));
}

/** The file sources: CUSTOMERS under Chinese headers in a file, rewritten whole for the change. */
const FILE_SOURCES = [
  { name: 'xlsx', kind: 'sheet', connector: 'xlsx', filename: 'customers.xlsx', table: '客户', write: writeWorkbook },
  { name: 'csv (GBK)', kind: 'csv', connector: 'csv', filename: 'customers.csv', table: 'customers', write: async (file: string, rows: Customer[]) => writeGbkCsv(file, rows) },
];

for (const f of FILE_SOURCES) {
  connectorContract(f.name, async () => {
    const { dir, cleanup } = tempDir(f.connector);
    const file = join(dir, f.filename);
    await f.write(file, CUSTOMERS);
    return {
      connector: createConnector(f.kind, source({ connector: f.connector, connection: { filename: f.filename } }), { baseDir: dir }),
      table: f.table,
      key: ['编号'],
      textColumn: '名称',
      expectedCount: CUSTOMERS.length,
      sample: { 编号: 3, 名称: '广州（南方）物流有限公司', 城市: '广州' },
      async change() {
        await f.write(file, changed());
        return CHANGE;
      },
      cleanup,
    };
  });
}

connectorContract(
  `plugin ${PLUGIN_NAME}`,
  async () => {
    const { dir, cleanup } = tempDir('plugin');
    installPlugin(dir);
    const write = (rows: Customer[]) => writeFileSync(join(dir, 'rows.json'), JSON.stringify({ customers: { key: ['id'], rows } }));
    write(CUSTOMERS);
    return {
      connector: createConnector('json', source({ connector: PLUGIN_NAME, connection: {}, settings: { file: 'rows.json' } }), { baseDir: dir }),
      table: 'customers',
      key: ['id'],
      textColumn: 'name',
      expectedCount: CUSTOMERS.length,
      sample: { id: 3, name: '广州（南方）物流有限公司', city: '广州' },
      async change() {
        write(changed());
        return CHANGE;
      },
      cleanup,
    };
  },
  {
    gaps: {
      aggregate: 'the example plugin declares capabilities.aggregate: false',
      'read keys': 'the example plugin has no readKeys: `crmlink sync reconcile` reports its sources as not reconcilable',
    },
  },
);

// ---------------------------------------------------------------- write side

for (const dialect of testDialects()) {
  connectorWriteContract(dialect, async () => {
    const made = await customersDatabase(dialect, 'connwrite');
    if (!made) return null;
    return { ...made.contract, existing: [CUSTOMERS[0], CUSTOMERS[1], CUSTOMERS[2]], newKeys: [[101], [102]] };
  });
}

connectorWriteContract('xlsx', async () => {
  const { dir, cleanup } = tempDir('xlsxw');
  await writeWorkbook(join(dir, 'customers.xlsx'), CUSTOMERS);
  const c = createConnector('sheet', source({ connector: 'xlsx', connection: { filename: 'customers.xlsx' }, file: { writeBack: true } }), { baseDir: dir });
  const row = (x: Customer) => ({ 编号: x.id, 名称: x.name });
  return { connector: c, table: '客户', key: ['编号'], textColumn: '名称', existing: [row(CUSTOMERS[0]), row(CUSTOMERS[1]), row(CUSTOMERS[2])], newKeys: [[101], [102]], cleanup };
});

connectorWriteContract('csv (GBK)', async () => {
  const { dir, cleanup } = tempDir('csvw');
  writeGbkCsv(join(dir, 'customers.csv'), CUSTOMERS);
  const c = createConnector('csv', source({ connector: 'csv', connection: { filename: 'customers.csv' }, file: { writeBack: true } }), { baseDir: dir });
  const row = (x: Customer) => ({ 编号: x.id, 名称: x.name });
  return { connector: c, table: 'customers', key: ['编号'], textColumn: '名称', existing: [row(CUSTOMERS[0]), row(CUSTOMERS[1]), row(CUSTOMERS[2])], newKeys: [[101], [102]], cleanup };
});
