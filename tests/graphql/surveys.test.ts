/**
 * Satisfaction surveys end to end: an Excel workbook of responses with Chinese headers (客户编号,
 * 调查日期, 渠道, 总体评分, …) holding the ERP's customer codes, pulled into the hub, linked to the
 * ERP's customers through identity (refSource), and read in GraphQL on the customer with the
 * average score; a salesperson sees only the responses of their own customers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Knex } from 'knex';
import { parseConfig } from '../../config/load.js';
import { openApp, closeApp, type App } from '../../app/app.js';
import { runJob } from '../../sync/engine.js';
import { silentLogger } from '../../core/logger.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';
import { createTestDatabase, fixtureKnex, type TestDatabase } from '../support/databases.js';
import { SERVER_AUTH } from './fixture.js';
import { SURVEY_RESPONSE_KEY } from '../../demo/mappings.js';

let dir: string;
let hubDb: TestDatabase;
let erpDb: TestDatabase;
let erp: Knex;
let app: App;
let yoga: CrmYoga;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are walked freely
async function gql(query: string, key: string): Promise<{ data?: any; errors?: { message: string }[] }> {
  const res = await yoga.fetch('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ query }) });
  return (await res.json()) as { data?: any; errors?: { message: string }[] };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-surveys-'));
  hubDb = await createTestDatabase('sqlite', 'svyhub');
  erpDb = await createTestDatabase('sqlite', 'svyerp');
  erp = fixtureKnex(erpDb);
  await erp.schema.createTable('customer', (t) => {
    t.string('code', 10).primary();
    t.string('name', 100);
    t.string('owner', 20);
  });
  await erp('customer').insert([
    { code: 'C001', name: '上海锦江贸易有限公司', owner: 'alice' },
    { code: 'C002', name: '北京华联商厦股份有限公司', owner: 'bob' },
  ]);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('满意度调查');
  ws.addRow(['问卷编号', '客户编号', '调查日期', '渠道', '总体评分', '服务评分', '意见']);
  ws.addRow(['S1', 'C001', new Date(Date.UTC(2024, 2, 1)), '电话', 4, 5, '交货及时']);
  ws.addRow(['S2', 'C001', new Date(Date.UTC(2024, 5, 1)), '微信', 5, 4.5, '服务很好']);
  ws.addRow(['S3', 'C002', new Date(Date.UTC(2024, 3, 15)), '上门', 3, 3, '价格偏高']);
  await wb.xlsx.writeFile(join(dir, 'surveys.xlsx'));
  const yaml = `
hub: { dialect: sqlite, connection: ${JSON.stringify(hubDb.connection)} }
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ${JSON.stringify(erpDb.database)} } }
  surveys:
    kind: crm
    connector: xlsx
    connection: { filename: surveys.xlsx }
    file: { tables: { responses: { sheet: 满意度调查, key: [问卷编号] } } }
entities:
  Customer:
    sources:
      erp: { table: customer, key: [code], fields: { code: code, name: name, ownerId: owner } }
  SurveyResponse:
    sources:
      surveys:
${SURVEY_RESPONSE_KEY}
          surveyDate: 调查日期
          channel: { column: 渠道, map: { 电话: PHONE, 微信: WECHAT, 上门: VISIT } }
          score: 总体评分
          serviceScore: 服务评分
          comment: 意见
sync:
  jobs:
    customers: { entity: Customer, sources: [erp], direction: pull }
    surveys: { entity: SurveyResponse, sources: [surveys], direction: pull }
server:
${SERVER_AUTH}
log: { level: silent }
`;
  app = await openApp(parseConfig(yaml, { baseDir: dir }), { logger: silentLogger });
  yoga = createYogaApp(app, { logger: false });
  expect((await runJob(app, 'customers')).status).toBe('ok');
  expect((await runJob(app, 'surveys')).status).toBe('ok');
});

afterAll(async () => {
  await closeApp(app);
  await erp.destroy();
  await erpDb.drop();
  await hubDb.drop();
  rmSync(dir, { recursive: true, force: true });
});

const QUERY = `{
  customers(orderBy: [{ field: code }]) {
    nodes {
      code
      surveyResponses(orderBy: [{ field: surveyDate }]) {
        nodes { code surveyDate channel score serviceScore comment customer { code } }
        aggregate { count avg { score } }
      }
    }
  }
}`;

describe('survey responses on the customer', () => {
  it('are linked to the ERP customer through identity and read with their average score', async () => {
    const r = await gql(QUERY, 'admin-key-0123456789');
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.nodes).toEqual([
      {
        code: 'C001',
        surveyResponses: {
          nodes: [
            { code: 'S1', surveyDate: '2024-03-01', channel: 'PHONE', score: '4', serviceScore: '5', comment: '交货及时', customer: { code: 'C001' } },
            { code: 'S2', surveyDate: '2024-06-01', channel: 'WECHAT', score: '5', serviceScore: '4.5', comment: '服务很好', customer: { code: 'C001' } },
          ],
          aggregate: { count: 2, avg: { score: '4.5' } },
        },
      },
      {
        code: 'C002',
        surveyResponses: {
          nodes: [{ code: 'S3', surveyDate: '2024-04-15', channel: 'VISIT', score: '3', serviceScore: '3', comment: '价格偏高', customer: { code: 'C002' } }],
          aggregate: { count: 1, avg: { score: '3' } },
        },
      },
    ]);
  });

  it("a salesperson sees only their own customers' responses", async () => {
    const r = await gql('{ surveyResponses(orderBy: [{ field: code }]) { nodes { code } } }', 'alice-key-0123456789');
    expect(r.errors).toBeUndefined();
    expect(r.data.surveyResponses.nodes).toEqual([{ code: 'S1' }, { code: 'S2' }]);
  });

  it('the sources list names the workbook source by its connector, beside the SQL ones', async () => {
    // A file source has no SQL dialect: it must not turn the whole list into an error (the console's sources view reads it).
    const r = await gql('{ sources { name dialect kind } }', 'admin-key-0123456789');
    expect(r.errors).toBeUndefined();
    expect(r.data.sources).toContainEqual(expect.objectContaining({ dialect: 'xlsx' }));
  });
});
