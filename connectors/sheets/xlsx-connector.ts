/**
 * Excel workbooks (.xlsx) through exceljs's streaming reader: a worksheet, or a range of one, is a
 * table with its header row as columns (sheet-table.ts). Formula cells give their cached result,
 * date-formatted cells and declared date columns give dates (serials included), rich text its text.
 *
 * Write-back is opt-in (file.writeBack): see `rewrite`, and FileConnector for the atomic replace.
 */
import { Readable } from 'node:stream';
import type * as ExcelJS from 'exceljs';
import type { FileTableConfig, SourceConfig } from '../../config/schema.js';
import { CrmlinkError } from '../../core/errors.js';
import { ownValue } from '../../core/own.js';
import { FileConnector, keyText, type ParsedFile, type WritePlan } from '../files/file-connector.js';
import type { Row } from '../driver.js';
import { buildTable, cellKey, type Cell, type FileIssue, type GridRow, type SheetTable } from './sheet-table.js';

interface Placement {
  table: string;
  config: FileTableConfig | undefined;
  /** 1-based rows and 0-based columns the table spans (inclusive); undefined: open. */
  firstRow: number;
  lastRow?: number;
  firstCol: number;
  lastCol?: number;
  grid: GridRow[];
}

/** exceljs loads with the first workbook read or written, not with crmlink: it is the largest package a process that never opens a workbook would carry. */
async function loadExcelJS() {
  return (await import('exceljs')).default;
}

export class XlsxConnector extends FileConnector {
  private lastIssues = new Map<string, FileIssue[]>();

  constructor(name: string, source: SourceConfig, baseDir: string) {
    super(name, 'xlsx', source, baseDir, source.file?.writeBack ?? false);
  }

  protected override readOnlyReason(): string {
    return `write-back is not enabled: set sources.${this.name}.file.writeBack: true`;
  }

  /**
   * The workbook with the plan applied, through exceljs's full reader and writer: only the cells
   * of the table's rows that change are set; a deleted row's cells are cleared (rows below do not
   * move, so formulas pointing at them stay right); a new row goes to the first blank row below
   * the table (or is inserted there). Other sheets, formulas and styles are written back as read.
   * A formula cell is never overwritten: the write fails, naming the cell, and the file is unchanged.
   */
  protected override async rewrite(content: Buffer, plan: WritePlan): Promise<Buffer> {
    const name = plan.table.info.name;
    const config = ownValue(this.source.file?.tables ?? {}, name);
    const sheetName = config?.sheet ?? name;
    const wb = new (await loadExcelJS()).Workbook();
    await wb.xlsx.load(content as unknown as ArrayBuffer);
    const ws = wb.getWorksheet(sheetName);
    if (!ws) throw this.fileError('MAPPING_INVALID', `table "${name}": no worksheet "${sheetName}"`, { table: name });
    const p = placement(name, config);
    let headerAt = p.firstRow;
    while (headerAt <= ws.rowCount && (ws.getRow(headerAt).values as unknown[]).every((v) => v === null || v === undefined || v === '')) headerAt++;
    const columns = new Map<string, number>();
    ws.getRow(headerAt).eachCell((cell, col) => {
      const text = cellValue(cell.value);
      if (text !== null && !columns.has(String(text).trim())) columns.set(String(text).trim(), col);
    });
    const types = new Map(plan.table.info.columns.map((c) => [c.name, c.crmType] as const));
    const keyCols = plan.key.map((k) => columns.get(k) ?? -1);
    const end = p.lastRow ?? ws.rowCount;
    let lastData = headerAt;
    for (let r = headerAt + 1; r <= end; r++) {
      const row = ws.getRow(r);
      const key = keyCols.map((c, j) => cellKey(c > 0 ? cellValue(row.getCell(c).value) : null, types.get(plan.key[j])));
      if (key.some((v) => v !== null)) lastData = r;
      const id = keyText(key);
      if (plan.deletes.has(id)) {
        for (const c of columns.values()) row.getCell(c).value = null;
        continue;
      }
      const update = plan.updates.get(id);
      if (update) this.setCells(row, update, columns, name);
    }
    let at = lastData + 1;
    for (const insert of plan.inserts) {
      const blank = (ws.getRow(at).values as unknown[]).every((v) => v === null || v === undefined || v === '');
      if (!blank) ws.insertRow(at, []);
      this.setCells(ws.getRow(at), insert, columns, name);
      at++;
    }
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  private setCells(row: ExcelJS.Row, values: Row, columns: Map<string, number>, table: string): void {
    for (const [column, value] of Object.entries(values)) {
      const c = columns.get(column);
      if (c === undefined) continue;
      const cell = row.getCell(c);
      if (cell.formula) {
        throw this.fileError('ROW_REJECTED', `table "${table}", cell ${cell.address} ("${column}") holds a formula: crmlink does not overwrite formulas`, { table, column });
      }
      cell.value = toCell(value, cell.value);
    }
  }

  /** Cells and rows of `table` that could not be read as declared, with sheet, row and column. */
  async issues(table: string): Promise<FileIssue[]> {
    await this.table(table);
    return this.lastIssues.get(table) ?? [];
  }

  protected async parse(content: Buffer): Promise<ParsedFile> {
    // A .xlsx is a zip archive: "PK\x03\x04".
    if (content.length < 4 || content.readUInt32LE(0) !== 0x04034b50) {
      throw this.fileError('SOURCE_DATABASE_UNKNOWN', 'is not an Excel workbook (.xlsx): it is not a zip archive (an old .xls must be saved as .xlsx first)');
    }
    const configured = Object.entries(this.source.file?.tables ?? {});
    let placements: Placement[] = [];
    let sheets: string[] = [];
    /** Route one worksheet's rows into the tables placed on it. */
    const consume = async (sheetName: string, rows: AsyncIterable<{ number: number; values: unknown[] }> | Iterable<{ number: number; values: unknown[] }>) => {
      sheets.push(sheetName);
      const here = configured.filter(([t, c]) => (c.sheet ?? t) === sheetName);
      const mine: Placement[] = (here.length ? here : [[sheetName, undefined] as const]).map(([table, config]) => placement(table, config));
      // A sheet a configured table names is read as that table; any other sheet is a table of its own.
      placements.push(...mine);
      for await (const row of rows) {
        for (const p of mine) {
          if (row.number < p.firstRow || (p.lastRow !== undefined && row.number > p.lastRow)) continue;
          const cells: Cell[] = [];
          const end = p.lastCol ?? row.values.length - 2;
          for (let c = p.firstCol; c <= end; c++) cells.push(cellValue(row.values[c + 1]));
          p.grid.push({ number: row.number, cells });
        }
      }
    };
    const excel = await loadExcelJS();
    try {
      try {
        const reader = new excel.stream.xlsx.WorkbookReader(Readable.from(content), {
          sharedStrings: 'cache',
          styles: 'cache', // number formats tell dates from numbers
          hyperlinks: 'ignore',
          worksheets: 'emit',
          entries: 'emit',
        });
        for await (const ws of reader) {
          // A sheet met before workbook.xml and its relations has no name yet ("Sheet1"): not usable.
          const state = reader as unknown as { workbookRels?: unknown; model?: unknown };
          if (!state.workbookRels || !state.model) throw new Error('worksheets stored before workbook.xml');
          const rows = (async function* () {
            for await (const row of ws as unknown as AsyncIterable<ExcelJS.Row>) yield { number: row.number, values: row.values as unknown[] };
          })();
          await consume((ws as unknown as { name: string }).name, rows);
        }
      } catch (streamErr) {
        // The streaming reader needs workbook.xml before the sheets in the archive; some writers
        // (exceljs itself, at times) store them the other way round. Read such a file whole.
        placements = [];
        sheets = [];
        const wb = new excel.Workbook();
        try {
          await wb.xlsx.load(content as unknown as ArrayBuffer);
        } catch {
          throw streamErr;
        }
        for (const ws of wb.worksheets) {
          const rows: { number: number; values: unknown[] }[] = [];
          ws.eachRow({ includeEmpty: false }, (row, number) => rows.push({ number, values: row.values as unknown[] }));
          await consume(ws.name, rows);
        }
      }
    } catch (err) {
      if (err instanceof CrmlinkError) throw err;
      throw this.fileError('SOURCE_DATABASE_UNKNOWN', `the workbook is damaged or not an .xlsx (${err instanceof Error ? err.message : String(err)})`, {}, err);
    }
    const tables = new Map<string, SheetTable>();
    this.lastIssues = new Map();
    for (const [table, c] of configured) {
      if (!placements.some((p) => p.table === table)) {
        throw this.fileError('MAPPING_INVALID', `table "${table}": no worksheet "${c.sheet ?? table}" (worksheets: ${sheets.join(', ')}); check sources.${this.name}.file.tables.${table}.sheet`, { table });
      }
    }
    for (const p of placements) {
      const sheet = p.config?.sheet ?? p.table;
      const t = buildTable(p.table, sheet, p.grid, p.config, { textOnly: false });
      tables.set(p.table, t);
      this.lastIssues.set(p.table, t.issues);
    }
    return { tables, description: `xlsx workbook, ${sheets.length} worksheet${sheets.length === 1 ? '' : 's'} (${sheets.join(', ')})` };
  }
}

function placement(table: string, config: FileTableConfig | undefined): Placement {
  const range = config?.range ? /^([A-Za-z]+)(\d+):([A-Za-z]+)(\d*)$/.exec(config.range) : null;
  const firstRow = config?.headerRow ?? (range ? Number(range[2]) : 1);
  return {
    table,
    config,
    firstRow,
    lastRow: range && range[4] ? Number(range[4]) : undefined,
    firstCol: range ? letterIndex(range[1]) : 0,
    lastCol: range ? letterIndex(range[3]) : undefined,
    grid: [],
  };
}

function letterIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** An exceljs cell value as a plain cell: formulas give their cached result, rich text and links their text. */
function cellValue(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as { result?: unknown; richText?: { text: string }[]; text?: unknown; error?: unknown; formula?: unknown; sharedFormula?: unknown };
    if ('formula' in o || 'sharedFormula' in o) return o.result === undefined ? null : cellValue(o.result);
    if (Array.isArray(o.richText)) return o.richText.map((r) => r.text).join('');
    if (o.error !== undefined) return String(o.error);
    if (typeof o.text === 'string') return o.text;
    if (o.text !== undefined) return cellValue(o.text);
  }
  return String(v);
}

/** A row value as a cell value: numbers where the cell holds numbers, dates as dates. */
function toCell(value: unknown, previous: unknown): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  const text = String(value);
  if ((typeof previous === 'number' || previous === null || previous === undefined) && /^[+-]?\d+(\.\d+)?$/.test(text) && Number.isFinite(Number(text)) && !/^[+-]?0\d/.test(text)) return Number(text);
  if (previous instanceof Date && /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/.test(text)) return new Date(`${text.replace(' ', 'T')}${text.length === 10 ? 'T00:00:00' : ''}Z`);
  return text;
}
