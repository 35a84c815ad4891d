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
import { FileConnector, type ParsedFile } from '../files/file-connector.js';
import { buildTable, type FileIssue, type GridRow } from './sheet-table.js';

const DELIMITERS = [',', ';', '\t', '|'];

export class CsvConnector extends FileConnector {
  private lastIssues: FileIssue[] = [];

  constructor(name: string, source: SourceConfig, baseDir: string) {
    super(name, 'csv', source, baseDir, false);
  }

  protected override readOnlyReason(): string {
    return 'write-back to CSV files is not enabled for this source';
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
