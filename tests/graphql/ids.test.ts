/**
 * Relay ids of source records: the per-store encoder (its entity and source part encoded once)
 * gives the same ids as federatedId, whatever the lengths and characters of source and key.
 */
import { describe, expect, test } from 'vitest';
import { decodeId, federatedId, federatedIds } from '../../schema/ids.js';
import { ENTITY_NAMES } from '../../model/entities.js';

describe('federatedIds', () => {
  test('the same ids as federatedId, and they decode back', () => {
    const sources = ['erp', 'oa', 'x', 'ab', 'abc', 'finance2', '财务', 'δδ'];
    const keys = ['1', '12', '123', 'SO0002-1', '', 'a"b', 'x\\y', '中文键', '\u{1F600}', '["1",2]', 'k\u0000z'];
    for (const entity of ENTITY_NAMES) {
      for (const source of sources) {
        const idOf = federatedIds(entity, source);
        for (const key of keys) {
          const id = idOf(key);
          expect(id).toBe(federatedId(entity, source, key));
          expect(decodeId(id)).toEqual({ kind: 'source', entity, source, sourceKey: key });
        }
      }
    }
  });
});
