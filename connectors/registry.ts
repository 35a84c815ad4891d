/**
 * Drivers by dialect, and the set of sources a config declares: drivers opened lazily, mappings
 * built from the config, whose loader has expanded each source's preset (the config's own mapping wins).
 *
 * @example
 *   const sources = SourceSet.open(loadConfigFile('crmlink.yaml'));
 *   const erp = sources.driver('erp');
 *   const customers = sources.mapping('Customer', 'erp');
 *   await sources.destroy();
 */
import type { LoadedConfig } from '../config/load.js';
import type { CrmlinkConfig, Dialect, EntitySourceConfig, SourceConfig } from '../config/schema.js';
import { CrmlinkError, redact } from '../core/errors.js';
import { hasOwnKey, ownValue } from '../core/own.js';
import type { Driver } from './driver.js';
import type { DialectAdapter } from './dialect-adapter.js';
import { KnexDriver, type KnexDriverOptions } from './knex-driver.js';
import { SqliteAdapter } from './dialects/sqlite/sqlite-dialect.js';
import { PostgresAdapter } from './dialects/postgres/postgres-dialect.js';
import { MysqlAdapter } from './dialects/mysql/mysql-dialect.js';
import { MssqlAdapter } from './dialects/mssql/mssql-dialect.js';
import { EntityMapping, type CustomFields } from './mapping/entity-mapping.js';
import type { Connector } from './connector.js';
import { AccessConnector } from './access/access-connector.js';
import { XlsxConnector } from './sheets/xlsx-connector.js';
import { CsvConnector } from './sheets/csv-connector.js';
import { loadPlugin } from './plugins.js';

const ADAPTERS: Record<Dialect, () => DialectAdapter> = {
  sqlite: () => new SqliteAdapter(),
  postgres: () => new PostgresAdapter(),
  mysql: () => new MysqlAdapter(),
  mssql: () => new MssqlAdapter(),
};

export function adapterFor(dialect: Dialect): DialectAdapter {
  return ADAPTERS[dialect]();
}

/** A SQL driver for one source (one with a `dialect`). Nothing connects until the first call. */
export function createDriver(name: string, source: SourceConfig, opts: KnexDriverOptions = {}): Driver {
  if (!source.dialect) {
    throw new CrmlinkError('CONFIG_INVALID', `source "${name}" is a ${source.connector ?? 'non-SQL'} source, not a database: it has no SQL driver`, { source: name, path: `sources.${name}` });
  }
  return new KnexDriver(name, source, adapterFor(source.dialect), opts);
}

/**
 * The connector for one source: a SQL driver for a `dialect`, the built-in Access, xlsx or csv
 * connector, or the plugin exported by the npm package `connector` names (resolved from the
 * config's directory). Nothing connects or opens a file until the first call.
 */
export function createConnector(name: string, source: SourceConfig, opts: KnexDriverOptions = {}): Connector {
  const baseDir = opts.baseDir ?? process.cwd();
  if (source.dialect) return createDriver(name, source, opts);
  switch (source.connector) {
    case 'access':
      return new AccessConnector(name, source, baseDir);
    case 'xlsx':
      return new XlsxConnector(name, source, baseDir);
    case 'csv':
      return new CsvConnector(name, source, baseDir);
    case undefined:
      throw new CrmlinkError('CONFIG_INVALID', `sources.${name} needs a dialect or a connector`, { source: name, path: `sources.${name}` });
    default:
      return loadPlugin(source.connector, { name, source, baseDir });
  }
}

/**
 * entities → source → mapping. Preset mappings are already in `config.entities`: the config
 * loader expands every source's preset there (config/presets.ts), the config's own mapping winning.
 */
export function effectiveEntities(config: CrmlinkConfig): Record<string, Record<string, EntitySourceConfig>> {
  const out: Record<string, Record<string, EntitySourceConfig>> = {};
  for (const [entity, e] of Object.entries(config.entities)) {
    if (!e) continue;
    for (const [sourceName, mapping] of Object.entries(e.sources)) (out[entity] ??= {})[sourceName] = mapping;
  }
  return out;
}

export class SourceSet {
  private readonly drivers = new Map<string, Connector>();
  private readonly mappings = new Map<string, EntityMapping>();
  private readonly entities: Record<string, Record<string, EntitySourceConfig>>;

  private constructor(
    private readonly loaded: LoadedConfig,
    private readonly selected: string[],
    private readonly driverOptions: KnexDriverOptions,
  ) {
    this.entities = effectiveEntities(loaded.config);
  }

  static open(loaded: LoadedConfig, opts: { only?: string[]; create?: boolean } = {}): SourceSet {
    const all = Object.keys(loaded.config.sources);
    for (const name of opts.only ?? []) {
      if (!all.includes(name)) throw unknownSource(name, all);
    }
    return new SourceSet(loaded, opts.only ? all.filter((n) => opts.only?.includes(n)) : all, { baseDir: loaded.baseDir, create: opts.create });
  }

  names(): string[] {
    return [...this.selected];
  }

  config(name: string): SourceConfig {
    if (!this.selected.includes(name)) throw unknownSource(name, this.selected);
    return this.loaded.config.sources[name];
  }

  /** The source's connector, whatever implements it. */
  connector(name: string): Connector {
    let d = this.drivers.get(name);
    if (!d) {
      d = openDriver(name, this.config(name), this.driverOptions);
      this.drivers.set(name, d);
    }
    return d;
  }

  /** The source's SQL driver; a file or plugin source has none (use `connector`). */
  driver(name: string): Driver {
    const c = this.connector(name);
    if (!(c instanceof KnexDriver)) {
      throw new CrmlinkError('NOT_AVAILABLE', `source "${name}" is a ${c.kind} source, not a SQL database: this needs a SQL source`, { source: name, path: `sources.${name}` });
    }
    return c;
  }

  /** Entities with at least one mapping on `source` (config or preset). */
  entitiesOf(source: string): string[] {
    return Object.entries(this.entities)
      .filter(([, sources]) => hasOwnKey(sources, source))
      .map(([entity]) => entity);
  }

  mapping(entity: string, source: string): EntityMapping {
    const id = `${entity}\u0000${source}`;
    let m = this.mappings.get(id);
    if (!m) {
      const config = ownValue(ownValue(this.entities, entity), source);
      if (!config) {
        throw new CrmlinkError('MAPPING_INVALID', `no mapping for ${entity} in source "${source}" (declare entities.${entity}.sources.${source} or a preset)`, {
          entity,
          source,
          path: `entities.${entity}.sources.${source}`,
        });
      }
      const custom = (this.loaded.config.entities as Record<string, { fields?: CustomFields } | undefined>)[entity]?.fields ?? {};
      m = new EntityMapping(entity, source, this.config(source), config, custom);
      for (const field of m.fields) {
        const from = m.refSourceOf(field);
        if (hasOwnKey(this.loaded.config.sources, from)) continue;
        const path = `entities.${entity}.sources.${source}.fields.${field}.refSource`;
        throw new CrmlinkError('MAPPING_INVALID', `${path} names source "${from}", which is not declared (declared: ${Object.keys(this.loaded.config.sources).join(', ')})`, {
          entity,
          source,
          field,
          path,
        });
      }
      this.mappings.set(id, m);
    }
    return m;
  }

  mappingsFor(entity: string): EntityMapping[] {
    return Object.keys(this.entities[entity] ?? {})
      .filter((s) => this.selected.includes(s))
      .map((s) => this.mapping(entity, s));
  }

  async destroy(): Promise<void> {
    const all = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(all.map((d) => d.destroy()));
  }
}

/**
 * createDriver, with a failure to build it (a connection URL that does not parse, say) as a
 * CrmlinkError naming the setting, its message redacted and without the original as cause: Node's
 * "Invalid URL" error carries the whole URL, password included, in its `input`.
 */
function openDriver(name: string, source: SourceConfig, opts: KnexDriverOptions): Connector {
  try {
    return createConnector(name, source, opts);
  } catch (err) {
    if (err instanceof CrmlinkError) throw err;
    const setting = `sources.${name}.connection`;
    const message =
      (err as { code?: unknown }).code === 'ERR_INVALID_URL'
        ? `${setting}.url is not a valid URL (not shown: it may hold a password): percent-encode / ? # @ in its user name and password, or set ${setting}.user and .password`
        : `source "${name}" cannot be opened: ${redact(err instanceof Error ? err.message : String(err))} (check ${setting})`;
    throw new CrmlinkError('CONFIG_INVALID', message, { source: name, setting });
  }
}

function unknownSource(name: string, known: string[]): CrmlinkError {
  return new CrmlinkError('SOURCE_UNKNOWN', `unknown source "${name}" (declared: ${known.join(', ') || 'none'})`, { source: name, path: `sources.${name}` });
}
