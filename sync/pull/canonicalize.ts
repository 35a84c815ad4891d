/**
 * Stage 2, canonicalize: mapped records → canonical values as the hub stores and compares them
 * (model/values.ts), checked against the model (model/validation.ts `canonicalize`: type, enum,
 * required, bounds) and for text that was not valid UTF-8 in the source. A record that fails is
 * rejected on its own (parked), naming the field, the source column, the value and the fix.
 */
import { isUtf8 } from 'node:buffer';
import { RowError } from '../../core/errors.js';
import type { CrmRecord } from '../../model/entities.js';
import { canonicalize } from '../../model/validation.js';
import type { DecodedPage, PageContext, UpsertItem } from './types.js';

/** Where a field's value came from in the source, for messages. */
export interface FieldOrigin {
  table: string;
  column(field: string): string | undefined;
}

export function canonicalizePage(page: DecodedPage, ctx: PageContext, origin: FieldOrigin): DecodedPage {
  const items = new Map(page.items);
  const rejected = [...page.rejected];
  for (const [key, item] of page.items) {
    if (item.kind !== 'upsert') continue;
    try {
      const record = canonicalRecord(item, ctx, origin);
      items.set(key, { kind: 'upsert', sourceKey: key, record, changedAt: item.changedAt, row: item.row });
    } catch (error) {
      items.delete(key);
      rejected.push({ sourceKey: key, error, payload: item.record });
    }
  }
  return { ...page, items, rejected };
}

function canonicalRecord(item: UpsertItem, ctx: PageContext, origin: FieldOrigin): CrmRecord {
  const out: CrmRecord = {};
  for (const name of ctx.fields) {
    const field = ctx.model.get(name);
    if (!field) continue;
    const raw = item.record[name];
    const checked = canonicalize(field, raw);
    if (checked.problem !== null) {
      const hint = field.type === 'enum' ? `; map the source's codes onto ${field.values?.join(', ') ?? 'the enum'} with \`map:\` in entities.${ctx.entity}.sources.${ctx.source}.fields.${name}` : '';
      throw rejection(item, name, ctx, origin, `${shown(raw)} ${checked.problem}${hint}`);
    }
    const v = checked.value;
    out[name] = v;
    if (field.type === 'string' || field.type === 'text') {
      const column = origin.column(name);
      const raw = column === undefined ? undefined : item.row?.[column];
      const broken = Buffer.isBuffer(raw) ? !isUtf8(raw) : typeof v === 'string' && v.includes('\uFFFD');
      if (broken) {
        // Stored as garbage and pushed everywhere, the original lost: rejected instead.
        const shown = Buffer.isBuffer(raw) ? `bytes 0x${raw.toString('hex').slice(0, 64)}` : `value ${JSON.stringify(String(v).slice(0, 64))}`;
        throw rejection(item, name, ctx, origin, `not valid UTF-8 text (${shown}); fix the encoding in ${ctx.source}`);
      }
    }
  }
  return out;
}

function shown(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `bytes 0x${v.toString('hex').slice(0, 64)}`;
  return JSON.stringify(typeof v === 'bigint' ? v.toString() : v) ?? String(v);
}

function rejection(item: UpsertItem, field: string, ctx: PageContext, origin: FieldOrigin, what: string): RowError {
  const column = origin.column(field);
  const where = `${ctx.source}.${origin.table}${column ? `.${column}` : ''}`;
  return new RowError('ROW_REJECTED', `${ctx.entity}.${field} from ${where} (key ${item.sourceKey}): ${what}`, {
    source: ctx.source,
    entity: ctx.entity,
    key: item.sourceKey,
    field,
    ...(column ? { column } : {}),
  });
}
