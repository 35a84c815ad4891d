/**
 * Presets: ready-made mapping fragments for well-known systems (Yonyou U8, Kingdee K/3 Cloud,
 * Weaver e-cology, Northwind-style schemas). A source that names a preset gets its mappings when
 * the config loads, so they are validated like the config's own mappings (field names, enum codes,
 * capture settings) and jobs can name their entities; a mapping the config declares for the same
 * entity and source replaces the preset's.
 *
 * Each preset is a folder `connectors/presets/<name>/` holding `mapping.yaml` and a README that
 * cites the public evidence for every table and column. `mapping.yaml` has:
 *
 * - `options:` what the source may set under `presetOptions` (e.g. the K/3 Cloud using
 *   organisation), each with a type, whether it is required and a description;
 * - `entities.<Entity>.sources.$source:` one mapping fragment per entity. A value written
 *   `{ $option: name }` is replaced by the source's option value.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { MappingError } from '../core/errors.js';
import { packagePath } from '../core/package-root.js';
import { isEntityName } from '../model/entities.js';
import { entitySourceSchema, type EntitySourceConfig } from './schema.js';

/**
 * The preset folders live beside the connector code that documents them; they are data (YAML
 * and README), read here because a preset is a piece of config.
 */
export const PRESET_DIR = packagePath('connectors', 'presets') + sep;
/** The key standing for the source's own name in a preset's mapping.yaml. */
export const PRESET_SOURCE = '$source';

export type PresetOptionValue = string | number | boolean;

const optionSchema = z
  .object({
    type: z.enum(['string', 'int', 'boolean']),
    required: z.boolean().default(false),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    description: z.string().min(1),
  })
  .strict();
export type PresetOption = z.infer<typeof optionSchema>;

const presetFileSchema = z
  .object({
    options: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/), optionSchema).default({}),
    entities: z.record(z.string(), z.object({ sources: z.record(z.string(), z.unknown()) }).strict()),
  })
  .strict();

export interface Preset {
  name: string;
  options: Record<string, PresetOption>;
  /** entity → raw fragment (options not yet substituted). */
  fragments: Map<string, unknown>;
}

export interface PresetIssue {
  /** Dotted path relative to the source: `preset`, `presetOptions.organization`. */
  at: string;
  message: string;
}

/** The names of the presets shipped (or found in `dir`), sorted. */
export function presetNames(dir: string = PRESET_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'mapping.yaml')))
    .map((d) => d.name)
    .sort();
}

const cache = new Map<string, Preset | PresetIssue[]>();

/** A preset's definition, or the problems that make it unusable (unknown name, bad file). */
export function loadPreset(name: string, dir: string = PRESET_DIR): Preset | PresetIssue[] {
  const id = `${dir}\u0000${name}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const result = readPreset(name, dir);
  cache.set(id, result);
  return result;
}

function readPreset(name: string, dir: string): Preset | PresetIssue[] {
  const file = join(dir, name, 'mapping.yaml');
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    return [{ at: 'preset', message: `unknown preset "${name}" (known presets: ${presetNames(dir).join(', ')})` }];
  }
  const parsed = presetFileSchema.safeParse(parse(readFileSync(file, 'utf8')) ?? {});
  if (!parsed.success) {
    return parsed.error.issues.map((i) => ({ at: 'preset', message: `preset ${name}: mapping.yaml ${i.path.join('.')}: ${i.message}` }));
  }
  const issues: PresetIssue[] = [];
  const fragments = new Map<string, unknown>();
  for (const [entity, e] of Object.entries(parsed.data.entities)) {
    if (!isEntityName(entity)) issues.push({ at: 'preset', message: `preset ${name}: unknown entity "${entity}"` });
    for (const key of Object.keys(e.sources)) {
      if (key !== PRESET_SOURCE) issues.push({ at: 'preset', message: `preset ${name}: entities.${entity}.sources.${key}: a preset maps ${PRESET_SOURCE} only` });
    }
    if (e.sources[PRESET_SOURCE] !== undefined) fragments.set(entity, e.sources[PRESET_SOURCE]);
  }
  if (issues.length > 0) return issues;
  return { name, options: parsed.data.options, fragments };
}

/**
 * entity → mapping of a preset for one source, with the source's option values substituted and
 * every fragment validated against the config schema (defaults applied). Problems come back as
 * issues so the config loader can report them with the rest.
 */
export function resolvePreset(
  name: string,
  options: Readonly<Record<string, PresetOptionValue>> = {},
  dir: string = PRESET_DIR,
): { mappings: Map<string, EntitySourceConfig>; issues: PresetIssue[] } {
  const mappings = new Map<string, EntitySourceConfig>();
  const preset = loadPreset(name, dir);
  if (Array.isArray(preset)) return { mappings, issues: preset };
  const issues: PresetIssue[] = [];
  const values = new Map<string, PresetOptionValue>();
  for (const key of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(preset.options, key)) {
      const known = Object.keys(preset.options);
      issues.push({ at: `presetOptions.${key}`, message: `preset ${name} has no option "${key}" (${known.length ? `options: ${known.join(', ')}` : 'it takes none'})` });
    }
  }
  for (const [key, def] of Object.entries(preset.options)) {
    const given = Object.prototype.hasOwnProperty.call(options, key) ? options[key] : def.default;
    if (given === undefined) {
      if (def.required) issues.push({ at: `presetOptions.${key}`, message: `required by preset ${name}: ${def.description}` });
      continue;
    }
    const bad = optionTypeError(given, def);
    if (bad) issues.push({ at: `presetOptions.${key}`, message: `${bad} (${def.description})` });
    else values.set(key, given);
  }
  if (issues.length > 0) return { mappings, issues };

  for (const [entity, raw] of preset.fragments) {
    const missing: string[] = [];
    const fragment = substituteOptions(raw, values, missing);
    for (const m of new Set(missing)) {
      issues.push(
        Object.prototype.hasOwnProperty.call(preset.options, m)
          ? { at: `presetOptions.${m}`, message: `needed by preset ${name} for ${entity}: ${preset.options[m].description}` }
          : { at: 'preset', message: `preset ${name}: entities.${entity} uses option "${m}", which it does not declare` },
      );
    }
    const parsed = entitySourceSchema.safeParse(fragment);
    if (!parsed.success) {
      for (const i of parsed.error.issues) issues.push({ at: 'preset', message: `preset ${name}: entities.${entity}.${i.path.join('.')}: ${i.message}` });
      continue;
    }
    mappings.set(entity, parsed.data);
  }
  return { mappings, issues };
}

/** entity → mapping of a preset; throws MAPPING_INVALID naming every problem. */
export function presetMappings(name: string, options: Readonly<Record<string, PresetOptionValue>> = {}): Record<string, EntitySourceConfig> {
  const { mappings, issues } = resolvePreset(name, options);
  if (issues.length > 0) {
    throw new MappingError('MAPPING_INVALID', issues.map((i) => `sources.*.${i.at}: ${i.message}`).join('; '), { setting: 'sources.*.preset' });
  }
  return Object.fromEntries(mappings);
}

function optionTypeError(value: PresetOptionValue, def: PresetOption): string | null {
  switch (def.type) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? null : `expected an integer, got ${JSON.stringify(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `expected true or false, got ${JSON.stringify(value)}`;
    case 'string':
      return typeof value === 'string' && value !== '' ? null : `expected a non-empty string, got ${JSON.stringify(value)}`;
  }
}

/** `{ $option: name }` → the option's value, everywhere in a fragment. */
function substituteOptions(value: unknown, values: ReadonlyMap<string, PresetOptionValue>, missing: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => substituteOptions(v, values, missing));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && entries[0][0] === '$option' && typeof entries[0][1] === 'string') {
    const name = entries[0][1];
    const v = values.get(name);
    if (v === undefined) missing.push(name);
    return v ?? null;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, substituteOptions(v, values, missing)]));
}
