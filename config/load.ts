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
import { hasOwnKey } from '../core/own.js';
import { FILE_CONNECTORS, configSchema, entitySchema, jobSchema, sourceSchema, type CrmlinkConfig } from './schema.js';
import { serverIssues } from './server.js';
import { ENTITY_NAMES, MODEL, isEntityName } from '../model/entities.js';
import { resolvePreset } from './presets.js';

export interface LoadedConfig {
  config: CrmlinkConfig;
  /**
   * Where a problem found later (e.g. a column missing from the live table) is reported: its
   * line, and for a mapping that came from a preset the source's `preset` key instead.
   */
  locate?(path: string, message: string): ConfigIssue;
  /** Absolute path of the file, when loaded from one. */
  file?: string;
  /** Directory relative paths (SQLite files) are resolved against. */
  baseDir: string;
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_CONFIG_FILE = 'crmlink.yaml';

/** Read, interpolate and validate a config file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string = DEFAULT_CONFIG_FILE, env: Env = process.env): LoadedConfig {
  const { loaded, issues } = checkConfigFile(file, env);
  if (issues.length > 0) throw new ConfigError(issues, loaded.file);
  return loaded;
}

/**
 * A config file's problems, sorted by line, and what of it is valid (`config check` goes on to
 * check the valid parts against the live sources). Throws only when the file is missing.
 */
export function checkConfigFile(file: string = DEFAULT_CONFIG_FILE, env: Env = process.env): ConfigCheck {
  const abs = resolve(file);
  if (!existsSync(abs)) {
    throw new CrmlinkError('CONFIG_NOT_FOUND', `config file not found: ${file} (pass --config FILE or create crmlink.yaml)`, {
      setting: '--config',
    });
  }
  const checked = checkConfig(readFileSync(abs, 'utf8'), { env, file: abs });
  return { loaded: { ...checked.loaded, file: abs }, issues: checked.issues };
}

export interface ConfigCheck {
  /** The config when `issues` is empty; otherwise the parts of it that are valid. */
  loaded: LoadedConfig;
  issues: ConfigIssue[];
}

/**
 * Parse config text. `file` only labels errors and anchors relative paths; `presetDir` replaces the
 * shipped preset folder (tests of the preset checks).
 */
export function parseConfig(text: string, opts: ParseOptions = {}): LoadedConfig {
  const { loaded, issues } = checkConfig(text, opts);
  if (issues.length > 0) throw new ConfigError(issues, opts.file);
  return loaded;
}

type ParseOptions = { env?: Env; file?: string; baseDir?: string; presetDir?: string };

/** parseConfig without throwing: every problem, and the valid parts of the config. */
export function checkConfig(text: string, opts: ParseOptions = {}): ConfigCheck {
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
  // A duplicate key leaves a readable document (the first value wins), so the checks below still
  // run on it; after a syntax error the rest of the file cannot be read reliably.
  const baseDir = opts.baseDir ?? (opts.file ? dirname(opts.file) : process.cwd());
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) {
    return { loaded: { config: acceptedParts({}).config, file: opts.file, baseDir }, issues: sortByLine(issues) };
  }

  const lineOf = (path: readonly PropertyKey[]): number | undefined => lineOfPath(doc, lineCounter, path);
  const raw = interpolate(doc.toJS() ?? {}, env, [], issues, lineOf);

  // Every problem of the file in one pass: when the schema refuses part of the file, the parts it
  // accepts are still expanded and cross-checked, and names declared in the refused parts count as
  // declared (a job naming a source whose dialect is wrong is not also "unknown source").
  const parsed = configSchema.safeParse(raw);
  let config: CrmlinkConfig;
  let declared: DeclaredNames;
  if (parsed.success) {
    config = parsed.data as CrmlinkConfig;
    declared = { sources: new Set(Object.keys(config.sources)), entities: new Set(Object.keys(config.entities)) };
  } else {
    for (const issue of parsed.error.issues) {
      // An unknown key is reported at its own line rather than its parent's.
      const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
      issues.push({ code: 'CONFIG_INVALID', path: issue.path.join('.'), message: describeIssue(issue), line: lineOf(at) });
    }
    ({ config, declared } = acceptedParts(raw));
  }

  const presets = expandPresets(config, opts.presetDir);
  for (const issue of presets.issues) issues.push({ ...issue, line: lineOf(issue.path.split('.')) });
  for (const issue of crossCheck(config, declared)) {
    const relabelled = presets.relabel(issue);
    issues.push({ ...relabelled, line: lineOf(relabelled.path.split('.')) });
  }
  const locate = (path: string, message: string): ConfigIssue => {
    const relabelled = presets.relabel({ code: 'CONFIG_INVALID', path, message });
    return { ...relabelled, line: lineOf(relabelled.path.split('.')) };
  };
  return { loaded: { config, file: opts.file, baseDir, locate }, issues: sortByLine(issues) };
}

/** Issues in the order of the file; those without a line (a key that is not there) last. */
export function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.i - b.i)
    .map((x) => x.issue);
}

/** Names the file declares, valid or not: references to them are not "unknown". */
interface DeclaredNames {
  sources: ReadonlySet<string>;
  entities: ReadonlySet<string>;
}

function recordOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The parts of a file the schema refused as a whole that are valid on their own: each source,
 * entity and job by itself, each other section whole (its defaults when it is invalid). The
 * cross-checks run on these so that one bad key does not hide the file's other problems.
 */
function acceptedParts(raw: unknown): { config: CrmlinkConfig; declared: DeclaredNames } {
  const top = recordOf(raw);
  const shape = configSchema.shape;
  const section = <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> => {
    const r = schema.safeParse(value);
    return r.success ? r.data : schema.parse(undefined);
  };
  const entries = <S extends z.ZodType>(schema: S, value: unknown, keyOk: (k: string) => boolean): Record<string, z.infer<S>> => {
    const out: Record<string, z.infer<S>> = {};
    for (const [k, v] of Object.entries(recordOf(value))) {
      const r = schema.safeParse(v);
      if (r.success && keyOk(k)) out[k] = r.data;
    }
    return out;
  };
  const sync = recordOf(top.sync);
  const config = {
    hub: section(shape.hub, top.hub),
    sources: entries(sourceSchema, top.sources, (k) => /^[A-Za-z][A-Za-z0-9_-]*$/.test(k)),
    entities: entries(entitySchema, top.entities, isEntityName),
    sync: {
      jobs: entries(jobSchema, sync.jobs, () => true),
      propagation: section(shape.sync, { propagation: sync.propagation }).propagation,
    },
    server: section(shape.server, top.server),
    analysis: section(shape.analysis, top.analysis),
    log: section(shape.log, top.log),
  } as CrmlinkConfig;
  return {
    config,
    declared: { sources: new Set(Object.keys(recordOf(top.sources))), entities: new Set(Object.keys(recordOf(top.entities))) },
  };
}

/** Resolve a path from the config (e.g. a SQLite filename) against the config's directory. */
export function resolveConfigPath(loaded: LoadedConfig, path: string): string {
  if (path === ':memory:' || isAbsolute(path)) return path;
  return resolve(loaded.baseDir, path);
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const URL_USERINFO_END = /[/?#@]/;

/**
 * The ${VAR}s a URL template places in its user-info ("postgres://${USER}:${PASS}@host/db"):
 * between "://" and the last "@" of the template's own text before its path, query or fragment.
 */
function userInfoVariables(template: string): Set<string> {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(template);
  if (!scheme) return new Set();
  const rest = template.slice(scheme[0].length);
  const literal = rest.replace(VAR, (m) => '\0'.repeat(m.length));
  const end = literal.search(/[/?#]/);
  const at = (end < 0 ? literal : literal.slice(0, end)).lastIndexOf('@');
  return at < 0 ? new Set() : new Set([...rest.slice(0, at).matchAll(VAR)].map((m) => m[1]));
}

function interpolate(
  value: unknown,
  env: Env,
  path: PropertyKey[],
  issues: ConfigIssue[],
  lineOf: (p: readonly PropertyKey[]) => number | undefined,
): unknown {
  if (typeof value === 'string') {
    const inUserInfo = path[path.length - 1] === 'url' ? userInfoVariables(value) : new Set<string>();
    return value.replace(VAR, (_m, name: string, fallback: string | undefined) => {
      const set = env[name];
      const v = set !== undefined && set !== '' ? set : fallback;
      if (v !== undefined && inUserInfo.has(name) && URL_USERINFO_END.test(v)) {
        // Left as it is, the URL would fail to parse, or parse into another host, and the error
        // would quote it, password and all. The message names the variable, never its value.
        issues.push({
          code: 'CONFIG_INVALID',
          path: path.join('.'),
          message: `the value of \${${name}} holds / ? # or @, which end the user name or password of a URL: percent-encode it (encodeURIComponent) or set it as connection.user / connection.password`,
          line: lineOf(path),
        });
      }
      if (v !== undefined) return v;
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

/**
 * Each source's preset mappings, merged into `config.entities` (in place) wherever the config
 * declares no mapping of its own for that entity and source. Unknown presets and bad options are
 * issues at `sources.<name>.preset(Options)`; `relabel` moves a later issue about a preset's
 * mapping from the entities path (which is not in the file) to the source's `preset` key.
 */
function expandPresets(config: CrmlinkConfig, presetDir?: string): { issues: PathIssue[]; relabel(issue: PathIssue): PathIssue } {
  const issues: PathIssue[] = [];
  const origin = new Map<string, { source: string; preset: string }>();
  for (const [sourceName, source] of Object.entries(config.sources)) {
    if (source.preset === undefined) continue;
    const resolved = resolvePreset(source.preset, source.presetOptions, presetDir);
    for (const i of resolved.issues) issues.push({ code: 'CONFIG_INVALID', path: `sources.${sourceName}.${i.at}`, message: i.message });
    for (const [entity, mapping] of resolved.mappings) {
      if (!isEntityName(entity)) continue;
      const declared = config.entities[entity];
      if (declared && Object.prototype.hasOwnProperty.call(declared.sources, sourceName)) continue;
      const target = declared ?? (config.entities[entity] = entitySchema.parse({ sources: {} }));
      target.sources[sourceName] = mapping;
      origin.set(`entities.${entity}.sources.${sourceName}`, { source: sourceName, preset: source.preset });
    }
  }
  return {
    issues,
    relabel(issue) {
      const m = /^(entities\.[^.]+\.sources\.[^.]+)(?:\.(.*))?$/.exec(issue.path);
      const from = m ? origin.get(m[1]) : undefined;
      if (!m || !from) return issue;
      // entities.Invoice.sources.erp.fields.x → entities.Invoice.fields.x, as the preset file spells it.
      const within = `${m[1].replace(/\.sources\.[^.]+$/, '')}${m[2] ? `.${m[2]}` : ''}`;
      return { ...issue, path: `sources.${from.source}.preset`, message: `preset ${from.preset}: ${within}: ${issue.message}` };
    },
  };
}

/** Checks that span keys: references between sources, entities, fields and jobs. */
function crossCheck(config: CrmlinkConfig, declared: DeclaredNames): PathIssue[] {
  const issues: PathIssue[] = [];
  const bad = (path: string, message: string) => issues.push({ code: 'CONFIG_INVALID', path, message });
  const sourceNames = [...declared.sources];
  const isSource = (name: string) => declared.sources.has(name);

  for (const [sourceName, source] of Object.entries(config.sources)) {
    const at = `sources.${sourceName}`;
    if ((source.dialect === undefined) === (source.connector === undefined)) {
      bad(at, 'needs exactly one of dialect (a database server or SQLite file) and connector (access | xlsx | csv | an npm package)');
    }
    const builtIn = (FILE_CONNECTORS as readonly string[]).includes(source.connector ?? '');
    if (builtIn && !source.connection.filename) bad(`${at}.connection.filename`, `required for the ${source.connector} connector: the file to read`);
    if (source.file && !builtIn) bad(`${at}.file`, 'applies to the access, xlsx and csv connectors only');
  }

  for (const [entityName, entity] of Object.entries(config.entities)) {
    if (!entity || !isEntityName(entityName)) continue;
    const known = new Set([...MODEL[entityName].fields.map((f) => f.name), ...Object.keys(entity.fields)]);
    if (Object.keys(entity.sources).length === 0 && Object.keys(config.sources).length === declared.sources.size) {
      const presets = Object.entries(config.sources).filter(([, s]) => s.preset !== undefined);
      bad(
        `entities.${entityName}`,
        `no source maps ${entityName}: map it under entities.${entityName}.sources${presets.length ? ` (the presets of ${presets.map(([n, s]) => `${n} (${s.preset})`).join(', ')} do not map it)` : ', or give a source a preset that maps it'}`,
      );
    }
    if (entity.owner && !hasOwnKey(entity.sources, entity.owner)) {
      bad(`entities.${entityName}.owner`, `"${entity.owner}" is not one of this entity's sources (${Object.keys(entity.sources).join(', ')})`);
    }
    for (const [sourceName, mapping] of Object.entries(entity.sources)) {
      const at = `entities.${entityName}.sources.${sourceName}`;
      if (!isSource(sourceName)) bad(at, `unknown source "${sourceName}" (declared: ${sourceNames.join(', ') || 'none'})`);
      for (const [field, fm] of Object.entries(mapping.fields)) {
        if (!known.has(field)) bad(`${at}.fields.${field}`, `unknown field "${field}" of ${entityName} (declare custom fields under entities.${entityName}.fields)`);
        if (typeof fm === 'object') {
          if (fm.refSource !== undefined) {
            const type = MODEL[entityName].fields.find((f) => f.name === field)?.type;
            if (type !== 'ref') bad(`${at}.fields.${field}.refSource`, `refSource applies to ref fields only (${entityName}.${field} is ${type ?? 'a custom field'})`);
            else if (!isSource(fm.refSource)) bad(`${at}.fields.${field}.refSource`, `unknown source "${fm.refSource}" (declared: ${sourceNames.join(', ')})`);
          }
          const forms = [fm.column, fm.columns, fm.split, fm.constant, fm.cases].filter((x) => x !== undefined).length;
          if (forms !== 1) bad(`${at}.fields.${field}`, 'needs exactly one of column, columns, split, constant, cases');
          const declared = MODEL[entityName].fields.find((f) => f.name === field);
          if (fm.type === undefined && declared?.type === 'enum' && declared.values) {
            const allowed = declared.values;
            const produced: [string, unknown][] = [
              ...Object.entries(fm.map ?? {}).map(([k, v]): [string, unknown] => [`map."${k}"`, v]),
              ...(fm.cases ?? []).map((c, i): [string, unknown] => [`cases.${i}`, c.value]),
              ...(fm.default !== undefined && (fm.map || fm.cases) ? [['default', fm.default] as [string, unknown]] : []),
            ];
            const wrong = produced.filter(([, v]) => v !== null && !allowed.includes(String(v)));
            if (wrong.length > 0) {
              bad(`${at}.fields.${field}${fm.map ? '.map' : ''}`, `${wrong.map(([k, v]) => `${k} → ${JSON.stringify(v)}`).join(', ')}: ${entityName}.${field} is one of ${allowed.join(', ')}`);
            }
          }
          if (fm.negate !== undefined && declared && !['decimal', 'int'].includes(fm.type ?? declared.type)) {
            bad(`${at}.fields.${field}.negate`, `negate applies to numbers (${entityName}.${field} is ${fm.type ?? declared.type})`);
          }
        }
      }
      const strategy = mapping.changes.strategy;
      if ((strategy === 'timestamp' || strategy === 'rowversion') && !mapping.changes.column) {
        bad(`${at}.changes.column`, `required for the ${strategy} strategy`);
      }
      if ((strategy === 'rowversion' || strategy === 'change-tracking') && config.sources[sourceName]?.dialect !== 'mssql') {
        bad(`${at}.changes.strategy`, `${strategy} needs a SQL Server source`);
      }
      const fileConnector = config.sources[sourceName]?.connector;
      if ((fileConnector === 'access' || fileConnector === 'xlsx' || fileConnector === 'csv') && strategy !== 'hash') {
        bad(`${at}.changes.strategy`, `a ${fileConnector} source captures changes by row hash only (strategy: hash)`);
      }
      if (fileConnector === 'access' && mapping.write.length > 0) {
        bad(`${at}.write`, `source "${sourceName}" is an Access file, which crmlink can only read: remove ${mapping.write.join(', ')} (the hub keeps the values)`);
      }
      if (mapping.delete.mode === 'soft' && !mapping.delete.column) bad(`${at}.delete.column`, 'required for soft deletes');
    }
  }

  for (const [jobName, job] of Object.entries(config.sync.jobs)) {
    const at = `sync.jobs.${jobName}`;
    const entity = config.entities[job.entity];
    if (!entity && !declared.entities.has(job.entity)) bad(`${at}.entity`, `entity ${job.entity} has no mapping under entities`);
    job.sources.forEach((s, i) => {
      if (!isSource(s)) bad(`${at}.sources.${i}`, `unknown source "${s}"`);
      else if (entity && hasOwnKey(config.sources, s) && !hasOwnKey(entity.sources, s)) bad(`${at}.sources.${i}`, `source "${s}" has no mapping for ${job.entity}`);
    });
    if (job.schedule !== undefined && !cron.validate(job.schedule)) bad(`${at}.schedule`, `invalid cron expression "${job.schedule}"`);
    if (job.reconcile !== undefined && !cron.validate(job.reconcile.schedule)) bad(`${at}.reconcile.schedule`, `invalid cron expression "${job.reconcile.schedule}"`);
    if (job.pollIntervalMs !== undefined) {
      const path = `${at}.pollIntervalMs`;
      if (job.direction === 'push') bad(path, 'a push-only job pulls nothing to poll for: polling applies to jobs with direction both or pull');
      else if (job.propagate === 'schedule') bad(path, 'propagate: schedule runs this job only on its schedule and on demand: remove pollIntervalMs, or propagate');
      else if (entity) {
        // Polled: trigger capture where the source cannot notify, and timestamp capture (connectors/capture/probe.ts).
        const how = job.sources.filter((s) => hasOwnKey(entity.sources, s) && hasOwnKey(config.sources, s)).map((s) => ({ s, strategy: entity.sources[s].changes.strategy, dialect: config.sources[s].dialect }));
        const polled = how.filter((h) => h.dialect !== undefined && (h.strategy === 'timestamp' || (h.strategy === 'trigger' && h.dialect !== 'postgres')));
        if (how.length > 0 && polled.length === 0) {
          bad(
            path,
            `no source of this job can be polled (${how.map((h) => `${h.s}: ${h.strategy}${h.strategy === 'trigger' && h.dialect === 'postgres' ? ' on PostgreSQL, which notifies at once' : ''}`).join(', ')}): polling reads the change log (changes.strategy: trigger, on MariaDB/MySQL, SQLite or SQL Server) or the newest modification time (changes.strategy: timestamp)`,
          );
        }
      }
    }
    const policies: [string, string][] = [['default', job.conflicts.default], ...Object.entries(job.conflicts.fields)];
    for (const [field, policy] of policies) {
      const path = field === 'default' ? `${at}.conflicts.default` : `${at}.conflicts.fields.${field}`;
      if (policy.startsWith('source:') && !job.sources.includes(policy.slice(7))) {
        bad(path, `"${policy}" names a source that is not in this job (${job.sources.join(', ')})`);
      }
    }
  }

  const backupSchedule = config.hub.backup.schedule;
  if (backupSchedule !== undefined && !cron.validate(backupSchedule)) bad('hub.backup.schedule', `invalid cron expression "${backupSchedule}"`);

  const urls: [string, string | undefined][] = [
    ['hub.connection.url', config.hub.connection.url],
    ...Object.entries(config.sources).map(([n, s]): [string, string | undefined] => [`sources.${n}.connection.url`, s.connection.url]),
  ];
  for (const [path, url] of urls) {
    if (url !== undefined && !URL.canParse(url)) {
      bad(path, 'not a valid URL (the value is not shown: it may hold a password): percent-encode / ? # @ in the user name and password, or use connection.host, .user and .password');
    }
  }
  for (const issue of serverIssues(config)) bad(issue.path, issue.message);
  return issues;
}
