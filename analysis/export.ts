/**
 * A customer analysis list as a spreadsheet (XLSX) or CSV, through exceljs: one row per customer,
 * the columns of `crmlink analysis customers`. Money goes into XLSX cells as numbers formatted to
 * the cent (what a spreadsheet sums), written from the exact decimal; CSV keeps the exact text.
 */
import type * as ExcelJS from 'exceljs';
import type { CustomerAnalysis } from './query.js';

export interface ExportColumn {
  header: string;
  key: string;
  money?: boolean;
  value(a: CustomerAnalysis): string | number | null;
}

export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  { header: 'customer', key: 'customerId', value: (a) => a.customerId },
  { header: 'name 名称', key: 'name', value: (a) => a.customerName },
  { header: 'as of', key: 'asOf', value: (a) => a.asOf },
  { header: 'tier 分级', key: 'tier', value: (a) => a.tier },
  { header: 'R', key: 'r', value: (a) => a.rfm.r },
  { header: 'F', key: 'f', value: (a) => a.rfm.f },
  { header: 'M', key: 'm', value: (a) => a.rfm.m },
  { header: 'segment', key: 'segment', value: (a) => a.rfm.segment },
  { header: 'last purchase', key: 'lastPurchase', value: (a) => a.rfm.lastPurchase },
  { header: 'orders', key: 'orders', value: (a) => a.rfm.frequency },
  { header: 'stage 生命周期', key: 'stage', value: (a) => a.lifecycle.stage },
  { header: 'quadrant 价值矩阵', key: 'quadrant', value: (a) => a.valueMatrix.quadrant },
  { header: 'revenue 收入', key: 'revenue', money: true, value: (a) => a.contribution.revenue },
  { header: 'cost 成本', key: 'cost', money: true, value: (a) => a.contribution.cost },
  { header: 'profit 利润贡献', key: 'profit', money: true, value: (a) => a.contribution.profit },
  { header: 'current value', key: 'currentValue', money: true, value: (a) => a.valueMatrix.currentValue },
  { header: 'potential value', key: 'potentialValue', money: true, value: (a) => a.valueMatrix.potentialValue },
  { header: 'credit limit 信用额度', key: 'creditLimit', money: true, value: (a) => a.credit.limit },
  { header: 'receivable 应收', key: 'receivable', money: true, value: (a) => a.credit.receivable },
  { header: 'overdue 逾期', key: 'overdue', money: true, value: (a) => a.credit.overdue },
  { header: '0-30', key: 'aging0To30', money: true, value: (a) => a.credit.aging.days0To30 },
  { header: '31-60', key: 'aging31To60', money: true, value: (a) => a.credit.aging.days31To60 },
  { header: '61-90', key: 'aging61To90', money: true, value: (a) => a.credit.aging.days61To90 },
  { header: '>90', key: 'agingOver90', money: true, value: (a) => a.credit.aging.over90 },
  { header: 'over limit', key: 'overLimit', value: (a) => (a.credit.overLimit ? 'yes' : 'no') },
];

async function workbook(rows: readonly CustomerAnalysis[], asNumbers: boolean): Promise<ExcelJS.Workbook> {
  // Loaded on the first export, not with every process that imports the analysis layer.
  const wb = new (await import('exceljs')).default.Workbook();
  const ws = wb.addWorksheet('customers');
  ws.columns = EXPORT_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.money ? 16 : 14, style: c.money && asNumbers ? { numFmt: '#,##0.00' } : {} }));
  for (const a of rows) {
    ws.addRow(
      Object.fromEntries(
        EXPORT_COLUMNS.map((c) => {
          const v = c.value(a);
          return [c.key, c.money && asNumbers && typeof v === 'string' ? Number(v) : v];
        }),
      ),
    );
  }
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  return wb;
}

export async function writeXlsx(file: string, rows: readonly CustomerAnalysis[]): Promise<void> {
  await (await workbook(rows, true)).xlsx.writeFile(file);
}

export async function writeCsv(file: string, rows: readonly CustomerAnalysis[]): Promise<void> {
  await (await workbook(rows, false)).csv.writeFile(file);
}
