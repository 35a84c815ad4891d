/**
 * Rows of the hub's system tables read back as plain data: each table's row shape is declared once
 * (field → column and kind) instead of being converted by hand wherever it is read. Drivers differ
 * (SQLite booleans are 0/1, PostgreSQL bigints come back as text), the kinds absorb it.
 */
type Kind = 'text' | 'text?' | 'number' | 'json' | 'json?';
type Spec = Kind | readonly [column: string, kind: Kind];
type KindOf<S> = S extends readonly [string, infer K] ? K : S;
type Value<K> = K extends 'text' ? string : K extends 'text?' ? string | null : K extends 'number' ? number : unknown;

export type RowOf<S extends Record<string, Spec>> = { -readonly [F in keyof S]: Value<KindOf<S[F]>> };

function read(v: unknown, kind: Kind): unknown {
  switch (kind) {
    case 'text':
      return String(v);
    case 'text?':
      return v === null || v === undefined ? null : String(v);
    case 'number':
      return Number(v);
    case 'json':
      return JSON.parse(String(v)) as unknown;
    case 'json?':
      return typeof v === 'string' ? (JSON.parse(v) as unknown) : null;
  }
}

/** A reader for rows of one shape: `rowReader({ id: 'number', createdAt: ['created_at', 'text'] })`. */
export function rowReader<S extends Record<string, Spec>>(shape: S): (row: Record<string, unknown>) => RowOf<S> {
  const fields = Object.entries(shape).map(([field, spec]) => (typeof spec === 'string' ? [field, field, spec] : [field, spec[0], spec[1]]) as [string, string, Kind]);
  return (row) => {
    const out: Record<string, unknown> = {};
    for (const [field, column, kind] of fields) out[field] = read(row[column], kind);
    return out as RowOf<S>;
  };
}
