/**
 * Access column types → crmlink types, and Access values → the row values every connector
 * returns: exact decimals as text, date-times as zone-less wall clocks (Access stores no zone;
 * the source's `timezone` says which one), integers as numbers.
 */
import type { Column, Value } from 'mdb-reader';
import { formatNaive } from '../../model/time.js';
import type { ColumnInfo } from '../driver.js';

type CrmType = NonNullable<ColumnInfo['crmType']>;

/** Access type (as mdb-reader names it) → crmlink type; null: not read (skipped with a notice). */
export const ACCESS_TYPES: Readonly<Record<Column['type'], CrmType | null>> = {
  text: 'string',
  memo: 'text',
  byte: 'int',
  integer: 'int',
  long: 'int',
  bigint: 'int',
  currency: 'decimal',
  numeric: 'decimal',
  float: 'decimal',
  double: 'decimal',
  boolean: 'boolean',
  datetime: 'datetime',
  datetimextended: 'datetime',
  repid: 'string',
  // Binary data has no CRM field to go to: attachments (complex), OLE objects, fixed binary.
  binary: null,
  ole: null,
  complex: null,
};

/** A column as crmlink describes it; `jet3` files store text as bytes, later ones as UTF-16. */
export function accessColumnInfo(c: Column, jet3: boolean): ColumnInfo {
  const isText = c.type === 'text';
  return {
    name: c.name,
    type: c.type,
    nullable: c.nullable,
    maxLength: isText ? (jet3 ? c.size : c.size / 2) : null,
    precision: c.type === 'numeric' ? (c.precision ?? null) : c.type === 'currency' ? 19 : null,
    scale: c.type === 'numeric' ? (c.scale ?? null) : c.type === 'currency' ? 4 : null,
    autoIncrement: c.autoLong,
    defaultValue: null,
    comment: null,
    crmType: ACCESS_TYPES[c.type] ?? undefined,
  };
}

/** An Access value as a row value. */
export function accessValue(type: Column['type'], v: Value): unknown {
  if (v === null) return null;
  switch (type) {
    case 'datetime':
      // mdb-reader builds the stored wall clock as if it were UTC.
      return v instanceof Date ? formatNaive(v.getTime()) : v;
    case 'bigint':
      return typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);
    default:
      return v;
  }
}
