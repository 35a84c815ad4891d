/**
 * Ready-made mappings for well-known systems. Each preset folder holds `mapping.yaml` (entities →
 * sources → `$source` mapping fragment, merged under the real source name at run time) and a
 * README citing where its table and column names come from.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { entitySourceSchema, type EntitySourceConfig } from '../../config/schema.js';
import { MappingError } from '../../core/errors.js';

export const PRESET_DIR = dirname(fileURLToPath(import.meta.url));
/** The key standing for the source's own name in a preset's mapping.yaml. */
export const PRESET_SOURCE = '$source';

export function presetNames(): string[] {
  return readdirSync(PRESET_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(PRESET_DIR, d.name, 'mapping.yaml')))
    .map((d) => d.name)
    .sort();
}

const cache = new Map<string, Record<string, EntitySourceConfig>>();

/** entity → mapping of a preset, validated against the config schema (defaults applied). */
export function presetMappings(name: string): Record<string, EntitySourceConfig> {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = join(PRESET_DIR, name, 'mapping.yaml');
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    throw new MappingError('MAPPING_INVALID', `unknown preset "${name}" (available: ${presetNames().join(', ')})`, { setting: 'sources.*.preset' });
  }
  const doc = parse(readFileSync(file, 'utf8')) as { entities?: Record<string, { sources?: Record<string, unknown> }> } | null;
  const out: Record<string, EntitySourceConfig> = {};
  for (const [entity, e] of Object.entries(doc?.entities ?? {})) {
    const fragment = e?.sources?.[PRESET_SOURCE];
    if (!fragment) continue;
    const parsed = entitySourceSchema.safeParse(fragment);
    if (!parsed.success) {
      throw new MappingError('MAPPING_INVALID', `preset ${name}: entities.${entity}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { entity });
    }
    out[entity] = parsed.data;
  }
  cache.set(name, out);
  return out;
}
