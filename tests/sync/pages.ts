/** Literal inputs for the pull's pure stages (tests of sync/pull/*): hub records and linked pages. */
import type { HubRecord } from '../../hub/golden.js';
import type { LinkedPage } from '../../sync/pull/types.js';

/** A live golden record at version 3, sequence 10, with `values`; `extra` overrides any of it. */
export const hubRecord = (id: string, values: Record<string, unknown>, extra: Partial<HubRecord> = {}): HubRecord => ({
  id,
  version: 3,
  seq: 10,
  updatedAt: '2024-01-01T00:00:00.000Z',
  deleted: false,
  mergedInto: null,
  values: values as never,
  ...extra,
});

/** A linked page with nothing in it but `over`. */
export const linkedPage = (over: Partial<LinkedPage>): LinkedPage => ({ items: new Map(), rejected: [], xref: new Map(), decisions: new Map(), bases: new Map(), records: new Map(), provenance: new Map(), open: new Map(), ...over });
