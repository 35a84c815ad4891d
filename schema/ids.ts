/**
 * Global ids (Relay `Node.id`).
 *
 * - A replicated record is a hub golden record: its id is the hub id itself (`cus_...`), so ids
 *   stay the same whatever source later contributes to the record.
 * - A federated record lives only in its owner source: its id is base64url(JSON [entity, source,
 *   sourceKey]). base64url of `["` starts with `WyJ`, which never collides with a hub prefix.
 */
import { CrmlinkError } from '../core/errors.js';
import { ENTITY_NAMES, MODEL, isEntityName, type EntityName } from '../model/entities.js';

export type DecodedId =
  | { kind: 'hub'; entity: EntityName; gid: string }
  | { kind: 'source'; entity: EntityName; source: string; sourceKey: string };

const BY_PREFIX = new Map<string, EntityName>(ENTITY_NAMES.map((e) => [MODEL[e].idPrefix, e]));

export function federatedId(entity: EntityName, source: string, sourceKey: string): string {
  return Buffer.from(JSON.stringify([entity, source, sourceKey]), 'utf8').toString('base64url');
}

/**
 * federatedId for one entity and source, the encoding of their part made once: base64 of a
 * whole number of 3-byte groups is the prefix of the encoding of anything after it, so only the
 * rest (at most 2 ASCII bytes of the head, the key, `]`) is encoded per id. Same ids as federatedId.
 */
export function federatedIds(entity: EntityName, source: string): (sourceKey: string) => string {
  const head = Buffer.from(`${JSON.stringify([entity, source]).slice(0, -1)},`, 'utf8');
  const whole = head.length - (head.length % 3);
  const encoded = head.subarray(0, whole).toString('base64url');
  // The last bytes of the head are `",` or `,`: ASCII, so latin1 gives them back as they were.
  const rest = head.subarray(whole).toString('latin1');
  return (sourceKey) => encoded + Buffer.from(`${rest}${JSON.stringify(sourceKey)}]`, 'utf8').toString('base64url');
}

/** Decode a global id; null when it is not one of ours (callers answer "not found"). */
export function decodeId(id: string): DecodedId | null {
  const m = /^([a-z]+)_[0-9a-z]+$/.exec(id);
  if (m) {
    const entity = BY_PREFIX.get(m[1]);
    return entity ? { kind: 'hub', entity, gid: id } : null;
  }
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      typeof parsed[0] === 'string' &&
      isEntityName(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      typeof parsed[2] === 'string'
    ) {
      return { kind: 'source', entity: parsed[0], source: parsed[1], sourceKey: parsed[2] };
    }
  } catch {
    // not JSON: fall through to "not ours"
  }
  return null;
}

/** Decode an id that must belong to `entity`; a malformed or foreign id is a user error. */
export function expectId(id: string, entity: EntityName, field = 'id'): DecodedId {
  const d = decodeId(id);
  if (!d || d.entity !== entity) {
    throw new CrmlinkError('VALIDATION_FAILED', `${field}: "${id}" is not the id of a ${entity}`, { entity, field });
  }
  return d;
}
