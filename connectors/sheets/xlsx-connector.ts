/**
 * Excel workbooks (.xlsx) through exceljs's streaming reader: a worksheet, or a range of one, is a
 * table with its header row as columns (sheet-table.ts). Formula cells give their cached result,
 * date-formatted cells and declared date columns give dates (serials included), rich text its text.
 *
 * Read-only for now: capabilities.write is false and a write says so (write-back is not built yet).
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { FileTableConfig, SourceConfig } from '../../config/schema.js';
import { CrmlinkError } from '../../core/errors.js';
import { FileConnector, type ParsedFile } from '../files/file-connector.js';
import { buildTable, type Cell, type FileIssue, type GridRow, type SheetTable } from './sheet-table.js';

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

export class XlsxConnector extends FileConnector {
  private lastIssues = new Map<string, FileIssue[]>();

  constructor(name: string, source: SourceConfig, baseDir: string) {
    super(name, 'xlsx', source, baseDir, false);
  }

  protected override readOnlyReason(): string {
    return 'write-back to workbooks is not enabled for this source';
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
    const placements: Placement[] = [];
    const sheets: string[] = [];
    try {
      const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(content), {
        sharedStrings: 'cache',
        styles: 'cache', // number formats tell dates from numbers
        hyperlinks: 'ignore',
        worksheets: 'emit',
        entries: 'emit',
      });
      for await (const ws of reader) {
        const sheetName = (ws as unknown as { name: string }).name;
        sheets.push(sheetName);
        const here = configured.filter(([t, c]) => (c.sheet ?? t) === sheetName);
        const mine: Placement[] = (here.length ? here : configured.some(([t, c]) => (c.sheet ?? t) === sheetName) ? [] : [[sheetName, undefined] as const]).map(([table, config]) =>
          placement(table, config),
        );
        placements.push(...mine);
        for await (const row of ws as unknown as AsyncIterable<ExcelJS.Row>) {
          const values = row.values as unknown[];
          for (const p of mine) {
            if (row.number < p.firstRow || (p.lastRow !== undefined && row.number > p.lastRow)) continue;
            const cells: Cell[] = [];
            const end = p.lastCol ?? values.length - 2;
            for (let c = p.firstCol; c <= end; c++) cells.push(cellValue(values[c + 1]));
            p.grid.push({ number: row.number, cells });
          }
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
