/**
 * Loading crmlink.yaml: YAML → `${VAR}` interpolation → schema validation → cross-checks. Every
 * problem is collected (not just the first) and reported with its dotted path and line number.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname, isAbsolute } from 'node:path';
import { LineCounter, parseDocument, isScalar, isMap, isSeq, type Node as YamlNode, type Document } from 'yaml';
import cron from 'node-cron';
import type { z } from 'zod';
import { ConfigError, CrmlinkError, type ConfigIssue } from '../core/errors.js';
import { configSchema, type CrmlinkConfig } from './schema.js';
import { ENTITY_NAMES, MODEL, isEntityName } from '../model/entities.js';

export interface LoadedConfig {
  config: CrmlinkConfig;
  /** Absolute path of the file, when loaded from one. */
  file?: string;
  /** Directory relative paths (SQLite files) are resolved against. */
  baseDir: string;
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_CONFIG_FILE = 'crmlink.yaml';

/** Read, interpolate and validate a config file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string = DEFAULT_CONFIG_FILE, env: Env = process.env): LoadedConfig {
  const abs = resolve(file);
  if (!existsSync(abs)) {
    throw new CrmlinkError('CONFIG_NOT_FOUND', `config file not found: ${file} (pass --config FILE or create crmlink.yaml)`, {
      setting: '--config',
    });
  }
  const loaded = parseConfig(readFileSync(abs, 'utf8'), { env, file: abs });
  return { ...loaded, file: abs };
}

/** Parse config text. `file` only labels errors and anchors relative paths. */
export function parseConfig(text: string, opts: { env?: Env; file?: string; baseDir?: string } = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const issues: ConfigIssue[] = [];

  for (const err of doc.errors) {
    const line = err.linePos?.[0]?.line ?? lineCounter.linePos(err.pos[0]).line;
    const message =
      err.code === 'DUPLICATE_KEY'
        ? `duplicate key "${/^[^:\s]+/.exec(text.slice(err.pos[0]))?.[0] ?? '?'}" (each name may appear once)`
        : err.message.split('\n')[0];
    issues.push({ code: 'CONFIG_INVALID', path: '', message, line });
  }
  if (issues.length > 0) throw new ConfigError(issues, opts.file);

  const lineOf = (path: readonly PropertyKey[]): number | undefined => lineOfPath(doc, lineCounter, path);
  const raw = interpolate(doc.toJS() ?? {}, env, [], issues, lineOf);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // An unknown key is reported at its own line rather than its parent's.
      const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
      issues.push({ code: 'CONFIG_INVALID', path: issue.path.join('.'), message: describeIssue(issue), line: lineOf(at) });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, opts.file);

  const config = parsed.data as CrmlinkConfig;
  for (const issue of crossCheck(config)) issues.push({ ...issue, line: lineOf(issue.path.split('.')) });
  if (issues.length > 0) throw new ConfigError(issues, opts.file);

  return { config, file: opts.file, baseDir: opts.baseDir ?? (opts.file ? dirname(opts.file) : process.cwd()) };
}

/** Resolve a path from the config (e.g. a SQLite filename) against the config's directory. */
export function resolveConfigPath(loaded: LoadedConfig, path: string): string {
  if (path === ':memory:' || isAbsolute(path)) return path;
  return resolve(loaded.baseDir, path);
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolate(
  value: unknown,
  env: Env,
  path: PropertyKey[],
  issues: ConfigIssue[],
  lineOf: (p: readonly PropertyKey[]) => number | undefined,
): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      issues.push({
        code: 'CONFIG_ENV_MISSING',
        path: path.join('.'),
        message: `environment variable ${name} is not set`,
        line: lineOf(path),
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i], issues, lineOf));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...path, k], issues, lineOf);
    return out;
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join('|')}`;
    case 'unrecognized_keys': {
      const keys = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return issue.path.length === 1 && issue.path[0] === 'entities' ? `${keys} (entities are ${ENTITY_NAMES.join(', ')})` : keys;
    }
    case 'invalid_type':
      return issue.message.includes('received undefined') ? `required (${issue.expected})` : `expected ${issue.expected}`;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    default:
      return issue.message;
  }
}

function lineOfPath(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  // Walk down as far as the document goes: a missing key is reported at its parent's line.
  let node: unknown = doc.contents;
  let line: number | undefined = rangeLine(node, counter);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      line = rangeLine(pair.key, counter) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      line = rangeLine(node, counter) ?? line;
    } else break;
  }
  return line;
}

function rangeLine(node: unknown, counter: LineCounter): number | undefined {
  const range = (node as YamlNode | undefined)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

type PathIssue = Omit<ConfigIssue, 'line'>;

/** Checks that span keys: references between sources, entities, fields and jobs. */
function crossCheck(config: CrmlinkConfig): PathIssue[] {
  const issues: PathIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ code: 'CONFIG_INVALID', path, message });
  const sourceNames = Object.keys(config.sources);

  for (const [entityName, entity] of Object.entries(config.entities)) {
    if (!entity || !isEntityName(entityName)) continue;
    const known = new Set([...MODEL[entityName].fields.map((f) => f.name), ...Object.keys(entity.fields)]);
    if (entity.owner && !(entity.owner in entity.sources)) {
      bad(`entities.${entityName}.owner`, `"${entity.owner}" is not one of this entity's sources (${Object.keys(entity.sources).join(', ')})`);
    }
    for (const [sourceName, mapping] of Object.entries(entity.sources)) {
      const at = `entities.${entityName}.sources.${sourceName}`;
      if (!(sourceName in config.sources)) bad(at, `unknown source "${sourceName}" (declared: ${sourceNames.join(', ') || 'none'})`);
      for (const [field, fm] of Object.entries(mapping.fields)) {
        if (!known.has(field)) bad(`${at}.fields.${field}`, `unknown field "${field}" of ${entityName} (declare custom fields under entities.${entityName}.fields)`);
        if (typeof fm === 'object') {
          if (fm.refSource !== undefined) {
            const type = MODEL[entityName].fields.find((f) => f.name === field)?.type;
            if (type !== 'ref') bad(`${at}.fields.${field}.refSource`, `refSource applies to ref fields only (${entityName}.${field} is ${type ?? 'a custom field'})`);
            else if (!(fm.refSource in config.sources)) bad(`${at}.fields.${field}.refSource`, `unknown source "${fm.refSource}" (declared: ${sourceNames.join(', ')})`);
          }
          const forms = [fm.column, fm.columns, fm.split, fm.constant].filter((x) => x !== undefined).length;
          if (forms !== 1) bad(`${at}.fields.${field}`, 'needs exactly one of column, columns, split, constant');
        }
      }
      const strategy = mapping.changes.strategy;
      if ((strategy === 'timestamp' || strategy === 'rowversion') && !mapping.changes.column) {
        bad(`${at}.changes.column`, `required for the ${strategy} strategy`);
      }
      if ((strategy === 'rowversion' || strategy === 'change-tracking') && config.sources[sourceName]?.dialect !== 'mssql') {
        bad(`${at}.changes.strategy`, `${strategy} needs a SQL Server source`);
      }
      if (mapping.delete.mode === 'soft' && !mapping.delete.column) bad(`${at}.delete.column`, 'required for soft deletes');
    }
  }

  for (const [jobName, job] of Object.entries(config.sync.jobs)) {
    const at = `sync.jobs.${jobName}`;
    const entity = config.entities[job.entity];
    if (!entity) bad(`${at}.entity`, `entity ${job.entity} has no mapping under entities`);
    job.sources.forEach((s, i) => {
      if (!(s in config.sources)) bad(`${at}.sources.${i}`, `unknown source "${s}"`);
      else if (entity && !(s in entity.sources)) bad(`${at}.sources.${i}`, `source "${s}" has no mapping for ${job.entity}`);
    });
    if (job.schedule !== undefined && !cron.validate(job.schedule)) bad(`${at}.schedule`, `invalid cron expression "${job.schedule}"`);
    const policies: [string, string][] = [['default', job.conflicts.default], ...Object.entries(job.conflicts.fields)];
    for (const [field, policy] of policies) {
      const path = field === 'default' ? `${at}.conflicts.default` : `${at}.conflicts.fields.${field}`;
      if (policy.startsWith('source:') && !job.sources.includes(policy.slice(7))) {
        bad(path, `"${policy}" names a source that is not in this job (${job.sources.join(', ')})`);
      }
    }
  }

  const roles = config.server.auth.roles;
  if (config.server.auth.mode === 'none' && !(config.server.auth.anonymousRole in roles)) {
    bad('server.auth.anonymousRole', `unknown role "${config.server.auth.anonymousRole}"`);
  }
  config.server.auth.apiKeys.forEach((k, i) => {
    if (!(k.role in roles)) bad(`server.auth.apiKeys.${i}.role`, `unknown role "${k.role}" (declared: ${Object.keys(roles).join(', ')})`);
  });
  return issues;
}
