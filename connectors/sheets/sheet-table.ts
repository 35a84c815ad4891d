/**
 * A grid of cells (a worksheet, a range, a CSV file) → a table: the header row gives the column
 * names, the rows below it are the data, each column is typed (inferred, or declared in the
 * config), and what does not fit is reported with its sheet, row and column rather than aborting.
 *
 * - Headers are trimmed; a blank header cell right of a named one (a merged header cell) is named
 *   after it with a suffix, `联系方式_2`; a repeated name gets one too; a blank one elsewhere takes the
 *   column's letter.
 * - Blank rows are skipped. Rows after the last one with values in two or more columns that hold a
 *   single value are notes ("注：…", "合计") and are reported, not read.
 * - A cell that does not have its column's declared type keeps its text (a mapped field then
 *   refuses it and the sync parks that row, naming the key) and is listed in `issues`.
 * - With a declared key, a row with a blank key or a key already seen is left out and listed.
 */
import type { FileTableConfig, SheetColumnType } from '../../config/schema.js';
import { ownValue } from '../../core/own.js';
import { normalizeDecimal, DECIMAL_RE } from '../../model/decimal.js';
import { formatNaive, parseNaive } from '../../model/time.js';
import type { ColumnInfo, Row, TableInfo } from '../driver.js';
import type { LoadedTable } from '../files/file-connector.js';

/** A cell as read: text, number, boolean, date (a wall clock built as UTC), or empty. */
export type Cell = string | number | boolean | Date | null;

/** A row of the grid with its number in the file (1-based sheet row or CSV line). */
export interface GridRow {
  number: number;
  /** Cells by 0-based column index. */
  cells: Cell[];
}

/** One thing in the file crmlink could not read as declared. */
export interface FileIssue {
  table: string;
  /** Worksheet (xlsx) or file name (csv). */
  sheet: string;
  row: number;
  column: string | null;
  value: string | null;
  message: string;
}

export interface SheetTable extends LoadedTable {
  issues: FileIssue[];
}

const INT_RE = /^[+-]?(0|[1-9]\d{0,14})$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const SLASH_DATE_RE = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Column letters of a 0-based index: 0 → A, 26 → AA. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function isBlank(c: Cell | undefined): boolean {
  return c === null || c === undefined || (typeof c === 'string' && c.trim() === '');
}

function cellText(c: Cell): string {
  if (c instanceof Date) return formatNaive(c.getTime());
  return String(c);
}

/** Build a table from its grid rows (header row first). */
export function buildTable(name: string, sheet: string, grid: GridRow[], config: FileTableConfig | undefined, opts: { textOnly: boolean }): SheetTable {
  const issues: FileIssue[] = [];
  const notices: string[] = [];
  const headerAt = grid.findIndex((r) => r.cells.some((c) => !isBlank(c)));
  if (headerAt < 0) {
    return { info: { schema: null, name, columns: [], primaryKey: [], uniqueKeys: [], comment: null, notices: ['no header row: the table is empty'] }, rows: [], issues };
  }
  const header = grid[headerAt];
  const body = grid.slice(headerAt + 1);
  const width = Math.max(header.cells.length, ...body.map((r) => r.cells.length));

  // Column names from the header row.
  const names: string[] = [];
  const used = new Map<string, number>();
  const unique = (base: string) => {
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  };
  // A column blank in the header and in every row is a spacer (or stray formatting): not a column.
  const keep: number[] = [];
  for (let i = 0; i < width; i++) if (!isBlank(header.cells[i]) || body.some((r) => !isBlank(r.cells[i]))) keep.push(i);
  for (const i of keep) {
    const h = header.cells[i];
    if (!isBlank(h)) names.push(unique(cellText(h as Cell).trim().replace(/\s+/g, ' ')));
    else if (i > 0 && !isBlank(header.cells[i - 1])) names.push(unique(cellText(header.cells[i - 1] as Cell).trim().replace(/\s+/g, ' ')));
    else names.push(unique(columnLetter(i)));
  }
  const columns = names;
  // Rows re-cut to the kept columns, so index i of a row is column i.
  const recut = (r: GridRow): GridRow => ({ number: r.number, cells: keep.map((i) => r.cells[i] ?? null) });

  // Data rows: skip blank ones; single-value rows after the last real row are notes.
  const bodyRows = body.map(recut);
  const filled = (r: GridRow) => r.cells.slice(0, columns.length).filter((c) => !isBlank(c)).length;
  let lastData = -1;
  bodyRows.forEach((r, i) => {
    if (filled(r) >= 2 || (columns.length === 1 && filled(r) === 1)) lastData = i;
  });
  const data = bodyRows.slice(0, lastData + 1).filter((r) => filled(r) > 0);
  for (const r of bodyRows.slice(lastData + 1)) {
    if (filled(r) > 0) notices.push(`row ${r.number}: "${r.cells.filter((c) => !isBlank(c)).map((c) => cellText(c as Cell)).join(' ')}" read as a note below the table, not as data`);
  }

  // Types: declared, else inferred from the column's values.
  const declared = config?.types ?? {};
  const types: SheetColumnType[] = columns.map((c, i) => ownValue(declared, c) ?? inferType(data.map((r) => r.cells[i] ?? null), opts.textOnly));
  for (const c of Object.keys(declared)) {
    if (!columns.includes(c)) notices.push(`types: no column "${c}" in the header (columns: ${columns.join(', ')})`);
  }

  const key = config?.key ?? [];
  const keyIdx = key.map((k) => columns.indexOf(k));
  if (key.length && keyIdx.some((i) => i < 0)) {
    notices.push(`key: no column ${key.filter((_, j) => keyIdx[j] < 0).map((k) => `"${k}"`).join(', ')} in the header`);
  }
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (const r of data) {
    const row: Row = {};
    for (let i = 0; i < columns.length; i++) {
      const raw = r.cells[i] ?? null;
      const typed = convert(raw, types[i]);
      if (typed.ok) row[columns[i]] = typed.value;
      else {
        row[columns[i]] = raw === null ? null : cellText(raw);
        issues.push({ table: name, sheet, row: r.number, column: columns[i], value: raw === null ? null : cellText(raw), message: typed.message });
      }
    }
    if (key.length && keyIdx.every((i) => i >= 0)) {
      const kv = key.map((k) => row[k]);
      if (kv.some((v) => v === null || v === '')) {
        issues.push({ table: name, sheet, row: r.number, column: key.join(', '), value: null, message: 'blank key: row left out' });
        continue;
      }
      const id = JSON.stringify(kv);
      if (seen.has(id)) {
        issues.push({ table: name, sheet, row: r.number, column: key.join(', '), value: kv.map(String).join(', '), message: 'key already on an earlier row: row left out' });
        continue;
      }
      seen.add(id);
    }
    rows.push(row);
  }

  const info: TableInfo = {
    schema: null,
    name,
    columns: columns.map((c, i) => columnInfo(c, types[i], data, i)),
    primaryKey: key.length && keyIdx.every((i) => i >= 0) ? key : [],
    uniqueKeys: [],
    comment: null,
    ...(notices.length || issues.length ? { notices: [...notices, ...(issues.length ? [`${issues.length} cell(s) or row(s) could not be read as declared (see issues)`] : [])] } : {}),
  };
  return { info, rows, issues };
}

function columnInfo(name: string, type: SheetColumnType, data: GridRow[], i: number): ColumnInfo {
  const blank = data.some((r) => isBlank(r.cells[i]));
  return {
    name,
    type,
    nullable: blank || data.length === 0,
    maxLength: null,
    precision: null,
    scale: null,
    autoIncrement: false,
    defaultValue: null,
    comment: null,
    crmType: type,
  };
}

/** The narrowest type every non-blank value of a column has. */
export function inferType(values: Cell[], textOnly: boolean): SheetColumnType {
  const present = values.filter((v) => !isBlank(v));
  if (present.length === 0) return 'string';
  const all = (test: (v: Cell) => boolean) => present.every(test);
  if (all((v) => typeof v === 'boolean')) return 'boolean';
  if (all((v) => v instanceof Date)) return all((v) => (v as Date).getTime() % 86_400_000 === 0) ? 'date' : 'datetime';
  if (all((v) => typeof v === 'number' && Number.isSafeInteger(v))) return 'int';
  if (all((v) => typeof v === 'number')) return 'decimal';
  if (!textOnly) return 'string';
  // CSV: everything is text; a code with a leading zero ("00123") stays text.
  const texts = present.map((v) => String(v).trim());
  if (texts.every((t) => INT_RE.test(t))) return 'int';
  if (texts.every((t) => DECIMAL_RE.test(t) && !/^[+-]?0\d/.test(t))) return 'decimal';
  if (texts.every((t) => DATE_RE.test(t) || SLASH_DATE_RE.test(t))) return 'date';
  if (texts.every((t) => DATETIME_RE.test(t) || DATE_RE.test(t))) return 'datetime';
  return 'string';
}

type Converted = { ok: true; value: unknown } | { ok: false; message: string };

/** Excel's day 0 (the 1900 date system, with its 1900 leap-year bug: serial 60 is the 29 Feb that never was). */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

/** A cell as a value of `type`: int → number, decimal → exact text, date → YYYY-MM-DD, datetime → wall clock. */
export function convert(raw: Cell, type: SheetColumnType): Converted {
  if (isBlank(raw)) return { ok: true, value: null };
  const v = typeof raw === 'string' ? raw.trim() : raw;
  switch (type) {
    case 'string':
      return { ok: true, value: typeof v === 'string' ? v : cellText(v as Cell) };
    case 'int': {
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v };
      if (typeof v === 'string' && /^[+-]?\d{1,15}$/.test(v.replace(/,/g, ''))) return { ok: true, value: Number(v.replace(/,/g, '')) };
      return { ok: false, message: 'not a whole number' };
    }
    case 'decimal': {
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: normalizeDecimal(v) };
      if (typeof v === 'string') {
        const t = v.replace(/,/g, '');
        if (DECIMAL_RE.test(t)) return { ok: true, value: normalizeDecimal(t) };
      }
      return { ok: false, message: 'not a number' };
    }
    case 'boolean': {
      if (typeof v === 'boolean') return { ok: true, value: v };
      const t = String(v).toLowerCase();
      if (['1', 'true', 'yes', 'y', '是', '√'].includes(t)) return { ok: true, value: true };
      if (['0', 'false', 'no', 'n', '否', '×'].includes(t)) return { ok: true, value: false };
      return { ok: false, message: 'not yes/no (1/0, true/false, 是/否)' };
    }
    case 'date':
    case 'datetime': {
      let ms: number | null = null;
      if (v instanceof Date) ms = v.getTime();
      else if (typeof v === 'number' && v > 0 && v < 2_958_466) ms = EXCEL_EPOCH + Math.round(v * 86_400_000); // a date serial
      else if (typeof v === 'string') {
        const slash = SLASH_DATE_RE.exec(v);
        const text = slash ? `${slash[1]}-${slash[2].padStart(2, '0')}-${slash[3].padStart(2, '0')}` : v.replace('T', ' ');
        const wall = (DATE_RE.test(text) || DATETIME_RE.test(text)) && parseNaive(text);
        if (wall) ms = wall.ms;
      }
      if (ms === null || Number.isNaN(ms)) return { ok: false, message: type === 'date' ? 'not a date (YYYY-MM-DD or an Excel date)' : 'not a date-time' };
      const naive = formatNaive(ms);
      return { ok: true, value: type === 'date' ? naive.slice(0, 10) : naive };
    }
  }
}

/** A key cell as the typed value reads give (so a write finds the row a read returned). */
export function cellKey(raw: Cell, type: ColumnInfo['crmType']): unknown {
  const typed = convert(raw, type === undefined || type === 'text' ? 'string' : type);
  return typed.ok ? typed.value : raw;
}
