/**
 * CSV files through csv-parse: UTF-8 with or without a BOM, GBK or GB18030 (iconv-lite), set in
 * the config or detected (text that is not valid UTF-8 is read as GB18030, GBK's superset); the
 * delimiter set or detected from the header line; the file is one table (sheet-table.ts).
 * A record csv-parse cannot read (an unclosed quote) is skipped and listed with its line; the
 * others are read.
 */
import { basename, extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { SourceConfig } from '../../config/schema.js';
import { ownValue } from '../../core/own.js';
import { FileConnector, keyText, type ParsedFile, type WritePlan } from '../files/file-connector.js';
import type { Row } from '../driver.js';
import { buildTable, cellKey, type FileIssue, type GridRow } from './sheet-table.js';

const DELIMITERS = [',', ';', '\t', '|'];

export class CsvConnector extends FileConnector {
  private lastIssues: FileIssue[] = [];

  constructor(name: string, source: SourceConfig, baseDir: string) {
    super(name, 'csv', source, baseDir, source.file?.writeBack ?? false);
  }

  protected override readOnlyReason(): string {
    return `write-back is not enabled: set sources.${this.name}.file.writeBack: true`;
  }

  /**
   * The file with the plan applied, in its own encoding (BOM kept), delimiter and line ending:
   * records whose key is updated get the new values in the columns written, deleted ones are left
   * out, new ones are appended; every other record keeps its values.
   */
  protected override async rewrite(content: Buffer, plan: WritePlan): Promise<Buffer> {
    const bom = content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf;
    const { text, encoding } = decode(content, this.source.file?.encoding ?? 'auto');
    const quote = this.source.file?.quote ?? '"';
    const delimiter = this.source.file?.delimiter ?? detectDelimiter(text, quote);
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const records = parse(text, { delimiter, quote, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true }) as string[][];
    const header = records[0] ?? [];
    const index = new Map(header.map((h, i) => [h.trim(), i] as const));
    const types = new Map(plan.table.info.columns.map((c) => [c.name, c.crmType ?? 'string'] as const));
    const keyIdx = plan.key.map((k) => index.get(k) ?? -1);
    const out: string[][] = [header];
    for (const rec of records.slice(1)) {
      const key = keyText(plan.key.map((k, j) => cellKey(rec[keyIdx[j]] ?? null, types.get(k))));
      if (plan.deletes.has(key)) continue;
      const update = plan.updates.get(key);
      out.push(update ? applyRow(rec, update, index) : rec);
    }
    for (const row of plan.inserts) out.push(applyRow(new Array<string>(header.length).fill(''), row, index));
    const body = out.map((r) => r.map((v) => csvField(v, delimiter, quote)).join(delimiter)).join(eol) + (/\r?\n$/.test(text) ? eol : '');
    const enc = encoding.startsWith('GBK') ? 'gbk' : encoding.startsWith('GB18030') ? 'gb18030' : 'utf8';
    const bytes = enc === 'utf8' ? Buffer.from(body, 'utf8') : iconv.encode(body, enc);
    return bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) : bytes;
  }

  /** The file's one table name. */
  get tableName(): string {
    return this.source.file?.table ?? basename(this.file, extname(this.file));
  }

  async issues(table: string): Promise<FileIssue[]> {
    await this.table(table);
    return this.lastIssues;
  }

  protected async parse(content: Buffer): Promise<ParsedFile> {
    const { text, encoding } = decode(content, this.source.file?.encoding ?? 'auto');
    const delimiter = this.source.file?.delimiter ?? detectDelimiter(text, this.source.file?.quote ?? '"');
    const name = this.tableName;
    const sheet = basename(this.file);
    const skipped: FileIssue[] = [];
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(text, {
        delimiter,
        quote: this.source.file?.quote ?? '"',
        relax_column_count: true,
        skip_empty_lines: false,
        info: true,
        skip_records_with_error: true,
        on_skip: (err) => {
          skipped.push({ table: name, sheet, row: Number((err as { lines?: unknown } | undefined)?.lines ?? 0), column: null, value: null, message: `record skipped: ${err?.message ?? 'unreadable'}` });
          return undefined;
        },
      }) as unknown as { record: string[]; info: { lines: number } }[];
    } catch (err) {
      throw this.fileError('SOURCE_DATABASE_UNKNOWN', `is not readable as CSV (${err instanceof Error ? err.message : String(err)})`, {}, err);
    }
    const grid: GridRow[] = records.map((r) => ({ number: r.info.lines, cells: r.record }));
    const t = buildTable(name, sheet, grid, ownValue(this.source.file?.tables ?? {}, name), { textOnly: true });
    t.issues.unshift(...skipped);
    this.lastIssues = t.issues;
    return { tables: new Map([[name, t]]), description: `csv, ${encoding}, delimiter ${JSON.stringify(delimiter)}` };
  }
}

/** The file's text, and which encoding it was read in. */
export function decode(content: Buffer, encoding: 'auto' | 'utf8' | 'gbk' | 'gb18030'): { text: string; encoding: string } {
  const bom = content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf;
  if (bom) return { text: content.subarray(3).toString('utf8'), encoding: 'UTF-8 (BOM)' };
  if (encoding === 'gbk' || encoding === 'gb18030') return { text: iconv.decode(content, encoding), encoding: encoding.toUpperCase() };
  if (encoding === 'utf8') return { text: content.toString('utf8'), encoding: 'UTF-8' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(content), encoding: 'UTF-8' };
  } catch {
    return { text: iconv.decode(content, 'gb18030'), encoding: 'GB18030 (detected)' };
  }
}

/** The delimiter that splits the first line into the most fields (outside quotes). */
export function detectDelimiter(text: string, quote: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    let count = 0;
    let quoted = false;
    for (const ch of line) {
      if (ch === quote) quoted = !quoted;
      else if (ch === d && !quoted) count++;
    }
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/** A record with the row's values written into the columns it names (as text). */
function applyRow(rec: string[], row: Row, index: Map<string, number>): string[] {
  const out = [...rec];
  for (const [column, value] of Object.entries(row)) {
    const i = index.get(column);
    if (i === undefined) continue;
    while (out.length <= i) out.push('');
    out[i] = value === null || value === undefined ? '' : typeof value === 'boolean' ? (value ? 'true' : 'false') : value instanceof Date ? value.toISOString() : String(value);
  }
  return out;
}

/** One field, quoted only when it must be (a delimiter, a quote or a line break in it). */
function csvField(v: string, delimiter: string, quote: string): string {
  return v.includes(delimiter) || v.includes(quote) || /[\r\n]/.test(v) ? `${quote}${v.split(quote).join(quote + quote)}${quote}` : v;
}
