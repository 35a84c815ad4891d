/**
 * The demo's satisfaction surveys (满意度调查): an Excel workbook of responses with Chinese
 * headers, the way a sales team keeps them, written at demo start next to the databases. Rows hold
 * the ERP customer codes (客户编号), so crmlink links each response to the customer the ERP knows.
 * Deterministic like the rest of the demo: the same responses on every machine.
 *
 * The sheet shows what the xlsx connector handles: a title row above the header, a blank row
 * inside the table, a note below it, dates as Excel dates, a formula (the average of the three
 * sub-scores) read from its cached result.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { Random } from './random.js';
import { AS_OF, addDays } from './time.js';

export const SURVEYS_FILE_NAME = 'surveys.xlsx';
export const SURVEY_SHEET = '满意度调查';
/** The header row (row 3: a title and a blank row above it). */
export const SURVEY_HEADERS = ['问卷编号', '客户编号', '客户名称', '调查日期', '渠道', '服务评分', '产品评分', '交付评分', '总体评分', '意见', '受访人'] as const;
export const SURVEY_HEADER_ROW = 3;

const CHANNELS = ['电话', '上门', '微信', '邮件', '网页'] as const;
const COMMENTS = [
  '交货及时，服务周到',
  '产品质量稳定，希望价格再优惠一些',
  '售后响应慢，等了三天才有人联系',
  '业务员专业，沟通顺畅',
  '发票开具有延误',
  '包装有破损，已协商解决',
  '整体满意，会继续合作',
  null,
] as const;
const RESPONDENTS = ['张经理', '李主任', '王总', '赵会计', '陈采购', '刘工'] as const;

export function surveysFile(dir: string): string {
  return join(resolve(dir), SURVEYS_FILE_NAME);
}

/** One response as written to the sheet. */
export interface SurveyRow {
  no: string;
  customerCode: string;
  customerName: string;
  date: string;
  channel: string;
  service: number;
  product: number;
  delivery: number;
  comment: string | null;
  respondent: string;
}

/** Responses for about two customers in three, one to three each, over the year before AS_OF. */
export function generateSurveys(customers: readonly { code: string; name: string }[], seed = 'crmlink-demo-v1'): SurveyRow[] {
  const rnd = new Random(`${seed}:surveys`);
  const out: SurveyRow[] = [];
  for (const c of customers) {
    if (!rnd.chance(0.65)) continue;
    const n = rnd.int(1, 3);
    for (let i = 0; i < n; i++) {
      const base = rnd.int(2, 5);
      const score = () => Math.max(1, Math.min(5, base + rnd.int(-1, 1)));
      out.push({
        no: `MY${String(out.length + 1).padStart(4, '0')}`,
        customerCode: c.code,
        customerName: c.name,
        date: addDays(AS_OF, -rnd.int(1, 360)),
        channel: CHANNELS[rnd.int(0, CHANNELS.length - 1)],
        service: score(),
        product: score(),
        delivery: score(),
        comment: COMMENTS[rnd.int(0, COMMENTS.length - 1)],
        respondent: RESPONDENTS[rnd.int(0, RESPONDENTS.length - 1)],
      });
    }
  }
  return out;
}

/** Write the workbook atomically (temporary file, then rename). */
export async function writeSurveyWorkbook(file: string, rows: readonly SurveyRow[]): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(SURVEY_SHEET);
  ws.addRow([`客户满意度调查（截至 ${AS_OF}）`]);
  ws.addRow([]);
  ws.addRow([...SURVEY_HEADERS]);
  rows.forEach((r, i) => {
    const at = SURVEY_HEADER_ROW + 1 + i + (i >= Math.floor(rows.length / 2) ? 1 : 0); // one blank row mid-table
    const row = ws.getRow(at);
    const avg = Math.round(((r.service + r.product + r.delivery) / 3) * 10) / 10;
    row.values = [
      r.no,
      r.customerCode,
      r.customerName,
      new Date(`${r.date}T00:00:00Z`),
      r.channel,
      r.service,
      r.product,
      r.delivery,
      { formula: `ROUND(AVERAGE(F${at}:H${at}),1)`, result: avg },
      r.comment,
      r.respondent,
    ];
    row.getCell(4).numFmt = 'yyyy-mm-dd';
  });
  ws.addRow([]);
  ws.addRow(['注：评分为 1-5 分，5 分最满意；总体评分为三项平均。']);
  ws.columns.forEach((col, i) => {
    col.width = [10, 10, 28, 12, 8, 10, 10, 10, 10, 36, 10][i] ?? 10;
  });
  const temp = `${file}.writing-${process.pid}`;
  try {
    await wb.xlsx.writeFile(temp);
    renameSync(temp, file);
  } finally {
    if (existsSync(temp)) rmSync(temp, { force: true });
  }
}
