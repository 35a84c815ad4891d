/**
 * Stage 1, decode: a page of source changes → one item per source key (the last change of a key
 * wins), each row mapped to a CRM record by its mapping. A row the mapping cannot read is rejected
 * with its error and its columns; the others go on.
 */
import type { ChangeBatch, Row } from '../../connectors/driver.js';
import { encodeKey } from '../../connectors/keys.js';
import type { CrmRecord, CrmValue } from '../../model/entities.js';
import type { DecodedPage, PageItem } from './types.js';

/** The part of a mapping decoding needs. */
export interface RowDecoder {
  sourceKey(row: Row): string;
  toRecord(row: Row): CrmRecord;
}

export function decodePage(batch: Pick<ChangeBatch, 'changes'>, mapping: RowDecoder): DecodedPage {
  const out: DecodedPage = { items: new Map(), seenKeys: [], rejected: [], oldestChange: null };
  const put = (item: PageItem) => {
    out.items.delete(item.sourceKey); // a later change of the same key replaces an earlier one
    out.items.set(item.sourceKey, item);
  };
  for (const change of batch.changes) {
    const changedAt = change.changedAt ? change.changedAt.toISOString() : null;
    if (changedAt !== null && (out.oldestChange === null || changedAt < out.oldestChange)) out.oldestChange = changedAt;
    if (change.op === 'delete' || !change.row) {
      put({ kind: 'delete', sourceKey: encodeKey(change.key), changedAt });
      continue;
    }
    const row = change.row;
    const sourceKey = mapping.sourceKey(row);
    out.seenKeys.push(sourceKey);
    try {
      put({ kind: 'upsert', sourceKey, record: mapping.toRecord(row), changedAt, row });
    } catch (error) {
      out.items.delete(sourceKey);
      out.rejected.push({ sourceKey, error, payload: rowPayload(row) });
    }
  }
  return out;
}

/** A source row as JSON-safe values, kept with a parked row. */
export function rowPayload(row: Row): Record<string, CrmValue> {
  const out: Record<string, CrmValue> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] =
      v === null || v === undefined
        ? null
        : v instanceof Date
          ? v.toISOString()
          : typeof v === 'number' || typeof v === 'boolean'
            ? v
            : Buffer.isBuffer(v)
              ? `0x${v.toString('hex')}`
              : String(v);
  }
  return out;
}
