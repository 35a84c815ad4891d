/**
 * The config file, declared once: every key with its type, default and description. Validation at
 * start-up, the JSON Schema for editors (`crmlink config schema`) and the README's reference all
 * come from these declarations.
 */
import { z } from 'zod';
import { ENTITY_NAMES } from '../model/entities.js';
import { assertTimeZone } from '../model/time.js';

function knownTimeZone(zone: string): boolean {
  try {
    assertTimeZone(zone);
    return true;
  } catch {
    return false;
  }
}

export const DIALECTS = ['mssql', 'postgres', 'mysql', 'sqlite'] as const;
export type Dialect = (typeof DIALECTS)[number];

export const SOURCE_KINDS = ['erp', 'finance', 'oa', 'crm'] as const;
export const WRITE_OPS = ['insert', 'update', 'delete'] as const;
export type WriteOp = (typeof WRITE_OPS)[number];
export const CAPTURE_STRATEGIES = ['timestamp', 'rowversion', 'change-tracking', 'trigger', 'hash'] as const;
export type CaptureStrategy = (typeof CAPTURE_STRATEGIES)[number];

const name = z.string().min(1);

export const connectionSchema = z
  .object({
    filename: z.string().optional().describe('SQLite: database file (":memory:" for an in-memory one). access, xlsx, csv: the file to read. Relative to the config file.'),
    url: z.string().optional().describe('Connection URL, e.g. postgres://user@host:5432/db. Use ${VAR} for secrets.'),
    host: z.string().optional(),
    port: z.coerce.number().int().positive().optional(),
    database: z.string().optional(),
    user: z.string().optional(),
    password: z.string().optional().describe('Secret: always write it as ${ENV_VAR}. access: the password of a protected or encrypted file.'),
    schema: z.string().optional().describe('PostgreSQL / SQL Server schema of the mapped tables.'),
    encrypt: z.boolean().optional().describe('SQL Server: encrypt the connection (default true).'),
    trustServerCertificate: z.boolean().optional().describe('SQL Server: accept a self-signed certificate.'),
    instanceName: z.string().optional().describe('SQL Server named instance.'),
    options: z.record(z.string(), z.unknown()).optional().describe('Extra driver options passed through as they are.'),
  })
  .strict()
  .describe('How to reach the database. Secrets come from the environment through ${VAR}.');
export type ConnectionConfig = z.infer<typeof connectionSchema>;

export const poolSchema = z
  .object({
    min: z.number().int().min(0).default(0),
    max: z.number().int().min(1).default(10),
  })
  .strict();

/** Connectors built into crmlink that read files rather than talk to a database server. */
export const FILE_CONNECTORS = ['access', 'xlsx', 'csv'] as const;
export type FileConnector = (typeof FILE_CONNECTORS)[number];

export const FILE_ENCODINGS = ['auto', 'utf8', 'gbk', 'gb18030'] as const;
export const COLUMN_TYPES = ['string', 'int', 'decimal', 'boolean', 'date', 'datetime'] as const;
export type SheetColumnType = (typeof COLUMN_TYPES)[number];

/** One table of a workbook or a CSV file: where it is and how its columns are typed. */
export const fileTableSchema = z
  .object({
    sheet: z.string().optional().describe('xlsx: the worksheet (default: the table name, else the first sheet).'),
    range: z
      .string()
      .regex(/^[A-Za-z]{1,3}[0-9]+:[A-Za-z]{1,3}[0-9]*$/, 'a range such as A1:F200 (or A3:F for "to the last row")')
      .optional()
      .describe('xlsx: the cells of the table, header row first, e.g. A3:F200; A3:F reads to the last row.'),
    headerRow: z.number().int().min(1).optional().describe('Row of the column headers (1-based; default 1, or the range\'s first row).'),
    key: z.array(name).optional().describe('Key columns (by header), reported by introspection; the mapping\'s key is what reads use.'),
    types: z
      .record(z.string(), z.enum(COLUMN_TYPES))
      .optional()
      .describe('Header → type, overriding what is inferred: string | int | decimal | boolean | date | datetime.'),
  })
  .strict();
export type FileTableConfig = z.infer<typeof fileTableSchema>;

/** File sources (connector access | xlsx | csv): how the file is read. */
export const fileOptionsSchema = z
  .object({
    encoding: z.enum(FILE_ENCODINGS).default('auto').describe('csv: auto (UTF-8 with or without BOM, else GB18030) | utf8 | gbk | gb18030.'),
    delimiter: z.string().min(1).max(4).optional().describe('csv: the field delimiter; default: detected from the header line among , ; tab |.'),
    quote: z.string().length(1).default('"').describe('csv: the quote character.'),
    table: z.string().optional().describe('csv: the name the file\'s one table goes by (default: the file name without extension).'),
    tables: z.record(z.string(), fileTableSchema).default({}).describe('Table name → where it is in the file and how its columns are typed.'),
    writeBack: z
      .boolean()
      .default(false)
      .describe('xlsx, csv: crmlink may write to the file (a new version written atomically, the previous one kept as <file>.bak; skipped while Excel has it open). Access files are never written.'),
  })
  .strict();
export type FileOptions = z.infer<typeof fileOptionsSchema>;

export const sourceSchema = z
  .object({
    kind: z.enum(SOURCE_KINDS).describe('What the system is: erp | finance | oa | crm.'),
    dialect: z.enum(DIALECTS).optional().describe('Database engine: mssql | postgres | mysql | sqlite. Exactly one of dialect and connector.'),
    connector: z
      .string()
      .regex(/^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/, 'a built-in connector (access | xlsx | csv) or an npm package name')
      .optional()
      .describe(
        'A source that is not a database server: access (.mdb/.accdb), xlsx, csv, or the name of an npm package that exports a crmlink connector (e.g. "@acme/crmlink-connector-foo"). Exactly one of dialect and connector.',
      ),
    connection: connectionSchema,
    file: fileOptionsSchema.optional().describe('File sources: encoding, delimiter, and per table its sheet, range, header row, key and column types.'),
    settings: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('Plugin connectors: their own settings, passed through as they are (secrets as ${VAR}).'),
    timezone: z
      .string()
      .default('UTC')
      .describe('IANA time zone of date/time columns that carry none (SQL Server datetime, MySQL datetime).'),
    preset: z
      .string()
      .optional()
      .describe(
        'Ready-made mappings for this source: yonyou-u8 | kingdee-k3cloud | weaver-ecology | northwind. Expanded and checked when the config loads; a mapping declared under entities for this source replaces the preset\'s.',
      ),
    presetOptions: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('Settings the preset asks for, e.g. { organization: 100001 } for kingdee-k3cloud (see the preset\'s README).'),
    readOnly: z.boolean().default(false).describe('Never write to this source, whatever the mappings allow.'),
    pool: poolSchema.optional(),
  })
  .strict();
export type SourceConfig = z.infer<typeof sourceSchema>;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** The comparisons a condition on one column may make (fresh schemas on each call, so each use is written out in the JSON Schema). */
const scalarComparisons = () => ({
  eq: scalar.optional(),
  ne: scalar.optional(),
  in: z.array(scalar).optional(),
  nin: z.array(scalar).optional(),
  isNull: z.boolean().optional(),
});

/** Conditions on a row's columns, all of which must hold; evaluated on the values read. */
export const rowConditionSchema = z
  .record(
    z.string(),
    z.union([
      scalar,
      z
        .object({
          ...scalarComparisons(),
          empty: z.boolean().optional().describe('NULL or blank text.'),
        })
        .strict(),
    ]),
  )
  .describe('Column → value or test, all of which must hold, e.g. { bd_c: 0 } or { cCloser: { empty: false } }.');
export type RowCondition = z.infer<typeof rowConditionSchema>;

export const fieldMappingSchema = z
  .object({
    column: z.string().optional().describe('Source column.'),
    columns: z.array(z.string()).min(2).optional().describe('Several columns concatenated (with `separator`).'),
    separator: z.string().optional().describe('Joins `columns` when read, splits when written.'),
    split: z
      .object({ column: z.string(), separator: z.string(), index: z.number().int().min(0) })
      .strict()
      .optional()
      .describe('Take one part of a column split by a separator.'),
    constant: scalar.optional().describe('A fixed value (read) / written to new rows.'),
    cases: z
      .array(z.object({ when: rowConditionSchema, value: scalar }).strict())
      .min(1)
      .optional()
      .describe('A value chosen by the row: the first case whose `when` holds, else `default`; e.g. a status from who closed or approved a document. Read only.'),
    negate: rowConditionSchema
      .optional()
      .describe('Numbers: the value is negated on rows that match, e.g. credit-side amounts { bd_c: 0 }. Read only.'),
    type: z.enum(['string', 'text', 'int', 'decimal', 'boolean', 'date', 'datetime', 'enum', 'ref']).optional(),
    scale: z.number().int().min(0).max(18).optional().describe('Decimal places kept for a decimal.'),
    trim: z.boolean().optional(),
    case: z.enum(['upper', 'lower']).optional(),
    halfWidth: z.boolean().optional().describe('Fold full-width and other compatibility characters (Unicode NFKC): ＡＢＣ１２３（） → ABC123(), ￥ → ¥, half-width katakana → full-width.'),
    map: z.record(z.string(), scalar).optional().describe('Code map, source value → CRM value, e.g. { "1": ACTIVE }.'),
    timezone: z.string().optional().describe('Overrides the source time zone for this column.'),
    write: z.boolean().optional().describe('false: never written back to this column.'),
    default: scalar.optional().describe('Value used when the column is NULL.'),
    refSource: z
      .string()
      .optional()
      .describe("ref fields: the source whose keys the column holds, when not this one (e.g. an OA form holding ERP customer codes)."),
  })
  .strict();
export type FieldMapping = z.infer<typeof fieldMappingSchema>;

const filterValue = z.union([
  scalar,
  z
    .object({
      ...scalarComparisons(),
      orNull: z.boolean().optional().describe('Also keep rows where the column is NULL, e.g. { ne: 1, orNull: true } for a deleted flag that may be unset.'),
    })
    .strict(),
]);

export const changesSchema = z
  .object({
    strategy: z.enum(CAPTURE_STRATEGIES).describe('timestamp | rowversion | change-tracking | trigger | hash.'),
    column: z.string().optional().describe('timestamp: the modification time column; rowversion: the rowversion column.'),
    lookBackSeconds: z.number().int().min(0).default(300).describe('Re-read window for clock skew and late commits.'),
  })
  .strict();
export type ChangesConfig = z.infer<typeof changesSchema>;

export const entitySourceSchema = z
  .object({
    table: name.describe('Source table (may contain Chinese characters, spaces, mixed case).'),
    schema: z.string().optional(),
    key: z.array(name).min(1).describe('Key columns that identify a row.'),
    identity: z.boolean().default(false).describe('The key is generated by the database on insert (identity / auto-increment).'),
    filter: z.record(z.string(), filterValue).optional().describe('Row filter, e.g. { deleted: 0 }.'),
    changes: changesSchema.prefault({ strategy: 'hash' }),
    write: z.array(z.enum(WRITE_OPS)).default([]).describe('Operations crmlink may write back: insert | update | delete.'),
    delete: z
      .object({
        mode: z.enum(['hard', 'soft']).default('hard'),
        column: z.string().optional().describe('soft: the flag column set on delete.'),
        value: scalar.optional().describe('soft: the value that marks a row deleted.'),
      })
      .strict()
      .prefault({}),
    fields: z
      .record(z.string(), z.union([z.string(), fieldMappingSchema]))
      .describe('CRM field → column name, or a mapping with transforms.'),
  })
  .strict();
export type EntitySourceConfig = z.infer<typeof entitySourceSchema>;

export const customFieldSchema = z
  .object({
    type: z.enum(['string', 'text', 'int', 'decimal', 'boolean', 'date', 'datetime']),
    scale: z.number().int().min(0).max(18).optional(),
    description: z.string().optional(),
  })
  .strict();

export const matchRuleSchema = z
  .object({
    rule: z.enum(['creditCode', 'name', 'phone', 'email']),
    certainty: z.enum(['sure', 'probable']).optional().describe('sure: this rule alone links (weight 1).'),
    weight: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe('Evidence of one agreement, in (0, 1]; agreeing rules combine as 1 − Π(1 − weight). Defaults: creditCode 1, name 0.9, email 0.7, phone 0.6.'),
  })
  .strict();

export const matchThresholdsSchema = z
  .object({
    link: z.number().gt(0).max(1).default(0.95).describe('Combined score at or above which two records are one customer.'),
    candidate: z.number().gt(0).max(1).default(0.5).describe('Combined score at or above which a pair becomes a merge candidate.'),
  })
  .strict()
  .refine((t) => t.candidate <= t.link, { message: 'candidate must not be above link' });

export const survivorshipSchema = z
  .object({
    default: z.string().default('newest').describe('"newest", "complete", "hub", or a source order "erp,finance".'),
    fields: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const entitySchema = z
  .object({
    mode: z
      .enum(['replicated', 'federated'])
      .default('replicated')
      .describe('replicated: a hub copy kept in sync; federated: read live from the owning source.'),
    owner: z.string().optional().describe('federated: the source that answers reads and takes writes (default: the first).'),
    sources: z
      .record(z.string(), entitySourceSchema)
      .default({})
      .describe("Source name → how this entity maps onto it. May be left out for a source whose preset maps the entity (the preset's mapping is used)."),
    fields: z.record(z.string(), customFieldSchema).default({}).describe('Custom fields beyond the canonical model.'),
    match: z
      .array(matchRuleSchema)
      .optional()
      .describe('Identity rules, in order (Customer). Absent: creditCode, name, phone, email with their default weights (docs/identity.md).'),
    matchThresholds: matchThresholdsSchema.optional().describe('Link and candidate thresholds for the combined match score (default link 0.95, candidate 0.5).'),
    survivorship: survivorshipSchema.optional(),
    writable: z.array(z.enum(WRITE_OPS)).default(['insert', 'update', 'delete']).describe('GraphQL mutations allowed.'),
  })
  .strict();
export type EntityConfig = z.infer<typeof entitySchema>;

export const conflictPolicySchema = z
  .string()
  .regex(/^(manual|hub|newest|source:[A-Za-z0-9_.-]+)$/, 'expected manual | hub | newest | source:<name>');
export type ConflictPolicy = 'manual' | 'hub' | 'newest' | `source:${string}`;

export const jobSchema = z
  .object({
    entity: z.enum(ENTITY_NAMES),
    sources: z.array(name).min(1),
    schedule: z.string().optional().describe('node-cron expression, e.g. "*/5 * * * *"; absent: run only on demand.'),
    direction: z.enum(['both', 'pull', 'push']).default('both'),
    propagate: z
      .enum(['events', 'schedule'])
      .optional()
      .describe('events: a hub change is pushed to the sources within a second while `crmlink serve` runs (the default); schedule: only scheduled and manual runs push. 事件驱动传播 / 仅定时.'),
    pollIntervalMs: z
      .number()
      .int('whole milliseconds, e.g. 2000')
      .min(100, 'at least 100 (milliseconds): a shorter poll loads the source for little gain')
      .max(3600000, 'at most 3600000 (an hour): for longer intervals use the schedule')
      .optional()
      .describe(
        'Short poll (短周期轮询) for sources that cannot notify: while `crmlink serve` runs, every this many ms one small indexed read per source (the change log\'s newest id for trigger capture, the newest modification time for timestamp capture) checks for changes, and a change starts a run pulling that source, under the job\'s lock. Off when absent; PostgreSQL trigger capture notifies instead. Needs a job that pulls with propagate: events.',
      ),
    conflicts: z
      .object({
        default: conflictPolicySchema.default('manual'),
        fields: z.record(z.string(), conflictPolicySchema).default({}),
      })
      .strict()
      .prefault({}),
    batchSize: z.number().int().min(1).max(100000).default(500),
    reconcile: z
      .object({
        schedule: z.string().describe('node-cron expression of the key reconcile, e.g. "0 3 * * *" (03:00 daily). 按计划核对主键，发现源端硬删除.'),
        pageSize: z.number().int().min(1).max(50000).default(1000).describe('Keys compared per page (one source statement per 1000 keys).'),
      })
      .strict()
      .optional()
      .describe('Key reconcile: finds rows hard-deleted in a source whose capture cannot see deletes (timestamp, rowversion) by comparing its keys with the hub\'s. Also `crmlink sync reconcile <job>`.'),
    clockSkewSeconds: z.number().min(0).default(5).describe('`newest` refuses to pick within this tolerance.'),
  })
  .strict();
export type JobConfig = z.infer<typeof jobSchema>;

export const roleSchema = z
  .object({
    customers: z.enum(['all', 'team', 'own']).default('own').describe('Row rule: which customers the role sees.'),
    hide: z.array(z.string()).default([]).describe('Fields masked for this role, e.g. Customer.creditLimit.'),
    write: z.boolean().default(false).describe('May run mutations (create/update/delete, resolve conflicts, merge).'),
    admin: z
      .boolean()
      .default(false)
      .describe('May use operations: sync jobs, conflicts, parked records, merge candidates, the console. These show every customer, so an admin role needs customers: all and no hide.'),
    steward: z
      .boolean()
      .default(false)
      .describe('Data steward: may restore records, fields and deleted records from history within its row rules (never a hidden field), and undo selected changes; undoing a whole sync run also needs customers: all and no hide. Admin roles may too.'),
  })
  .strict();

/** Asymmetric JWS algorithms a JWKS-verified token may use (no HMAC: a public key is no secret). */
export const JWT_ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** A span as jose reads it: "30s", "8h", "2 days". */
const DURATION = /^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/;

export const apiKeySchema = z
  .object({
    key: z.string().min(16).describe('Secret: write it as ${ENV_VAR}.'),
    user: z.string(),
    role: z.string(),
    team: z.string().optional(),
  })
  .strict();

/** scheme://host[:port], as a browser sends it in Origin: no path, no wildcard. */
const origin = z
  .string()
  .regex(/^https?:\/\/[^/\s*?#]+$/, 'expected an origin such as https://crm.example.com (scheme, host and port only; no wildcard)');

export const serverSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(4000).describe('Port to listen on (a number, or "${PORT}" from the environment).'),
    host: z.string().default('127.0.0.1').describe('Address to listen on.'),
    allowedHosts: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Host names this server answers to (the Host header, port ignored); any other gets 421, which defeats DNS rebinding. Default: localhost, 127.0.0.1, ::1 and server.host (every address of this machine when host is 0.0.0.0 or ::). /healthz and /readyz answer any host.',
      ),
    cors: z
      .object({
        origins: z
          .array(origin)
          .default([])
          .describe('Browser origins allowed to call /graphql from another site. Empty (default): no CORS headers, so browsers keep every other site out. Cookies are never allowed cross-site.'),
      })
      .strict()
      .prefault({}),
    graphiql: z.boolean().default(true).describe('Offer GraphiQL at /graphql (never in production, never without introspection).'),
    introspection: z
      .boolean()
      .optional()
      .describe('Answer schema introspection (__schema, __type). Default: on, off when production is true.'),
    federation: z
      .boolean()
      .default(false)
      .describe(
        'Serve /graphql as an Apollo Federation v2 subgraph: every entity is keyed by its id (@key), with _service { sdl } for composition and _entities resolving references in batches under the caller\'s row rules. _service follows introspection: with introspection off, compose from `crmlink schema print --subgraph` instead.',
      ),
    fieldSuggestions: z
      .boolean()
      .optional()
      .describe('"Did you mean …" hints in error messages (they spell out field and enum names). Default: on, off when production is true.'),
    production: z
      .boolean()
      .default(false)
      .describe(
        'Production mode: refuses to start without authentication (see server.auth.allowOpenInProduction), masks unexpected errors, turns GraphiQL off, and turns introspection and field suggestions off unless set.',
      ),
    metricsListener: z
      .object({
        host: z.string().default('127.0.0.1').describe('Address of the monitoring listener; keep it private.'),
        port: z.coerce.number().int().min(0).max(65535).describe('Port of the monitoring listener.'),
      })
      .strict()
      .optional()
      .describe(
        'A second listener for monitoring only: /metrics, /readyz with every source and /healthz, without credentials. Without it, /metrics and the readiness details need an admin credential on the main port.',
      ),
    readiness: z
      .object({
        cacheSeconds: z
          .number()
          .min(0)
          .default(5)
          .describe('A readiness check of the hub and every source is reused this long; probes arriving meanwhile share it.'),
        timeoutSeconds: z.number().positive().default(5).describe('A source that has not answered by then is reported down.'),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        depth: z.number().int().min(1).default(10).describe('How deeply a query may nest fields with selections (QUERY_TOO_COMPLEX beyond).'),
        cost: z
          .number()
          .int()
          .min(1)
          .default(50000)
          .describe(
            'The most one operation may cost, checked before any SQL runs: 1 per root or aliased field, 1 per object, each list and page multiplied by its length (first/last, the default page of 50, the ids of nodes(ids:)), aggregateCost per totalCount and aggregate, all multiplied by the parents they repeat under.',
          ),
        aggregateCost: z
          .number()
          .int()
          .min(0)
          .default(10)
          .describe('The cost of each totalCount and each aggregate (a COUNT or SUM over the whole filtered set, whatever the page size), per parent.'),
        aliases: z.number().int().min(0).default(30).describe('How many aliased fields one operation may have, through its fragments.'),
        tokens: z.number().int().min(1).default(5000).describe('How many lexical tokens one document may have; parsing stops beyond.'),
        fragmentSpreads: z
          .number()
          .int()
          .min(0)
          .default(200)
          .describe('How many fragment spreads one operation may execute, counted through fragments (a fragment spread twice in a fragment spread twice counts 2 + 4).'),
        filterDepth: z
          .number()
          .int()
          .min(1)
          .default(12)
          .describe('How deeply input objects may nest in arguments and variables (where filters with and/or/not); VALIDATION_FAILED beyond.'),
        bodyBytes: z
          .number()
          .int()
          .min(1024)
          .default(1_048_576)
          .describe('The largest request body /graphql accepts, in bytes (413 beyond; a body without Content-Length gets 411).'),
      })
      .strict()
      .prefault({})
      .describe('Limits on a single request (see SECURITY.md, "Limits on a single request").'),
    auth: z
      .object({
        mode: z
          .enum(['none', 'apiKey', 'jwt'])
          .default('none')
          .describe('none: no credentials, every request runs as anonymousRole (refused in production unless allowOpenInProduction); apiKey: x-api-key header; jwt: Authorization: Bearer <token>, HS256 with a secret or RS256/ES256 against an identity provider\'s JWKS.'),
        allowOpenInProduction: z
          .boolean()
          .default(false)
          .describe('With mode none and production: true, start anyway and serve every request as anonymousRole. Without it such a server refuses to start.'),
        apiKeys: z.array(apiKeySchema).default([]),
        jwt: z
          .object({
            secret: z
              .string()
              .min(16)
              .optional()
              .describe('HS256 secret, at least 16 characters, for tokens crmlink\'s own issuer signs. Write it as ${ENV_VAR}. Set this or jwksUrl, not both.'),
            jwksUrl: z
              .string()
              .url()
              .optional()
              .describe(
                "The identity provider's JSON Web Key Set (e.g. https://idp.example.com/.well-known/jwks.json): tokens signed with its keys (RS256, ES256, see algorithms) are accepted. Keys are cached; a token with a key id not in the cache fetches the set again (at most once per jwksCooldownSeconds), so a rotated key is picked up without a restart. Must be https in production (http only to 127.0.0.1/localhost). Set this or secret, not both.",
              ),
            algorithms: z
              .array(z.enum(JWT_ASYMMETRIC_ALGORITHMS))
              .min(1)
              .default(['RS256', 'ES256'])
              .describe('Signature algorithms accepted with jwksUrl. HMAC algorithms are never accepted with a key set (an HS256 token signed with a public key is refused).'),
            jwksCacheSeconds: z.number().int().min(0).default(600).describe('How long a fetched key set is used before it is fetched again.'),
            jwksCooldownSeconds: z
              .number()
              .min(0)
              .default(30)
              .describe('The least time between two fetches of the key set, however many tokens with an unknown key id arrive.'),
            jwksTimeoutSeconds: z.number().positive().default(5).describe('A key set fetch that has not answered by then fails (the request gets SOURCE_UNAVAILABLE, 503).'),
            issuer: z
              .union([z.string(), z.array(z.string()).min(1)])
              .optional()
              .describe('Accepted "iss" values; set it whenever tokens come from an identity provider.'),
            audience: z
              .union([z.string(), z.array(z.string()).min(1)])
              .optional()
              .describe('Accepted "aud" values (the token must name one of them); set it whenever tokens come from an identity provider.'),
            clockTolerance: z
              .union([z.number().int().min(0), z.string().regex(DURATION, 'expected seconds or a span such as "30s"')])
              .default(0)
              .describe('Leeway for exp, nbf and iat against this server\'s clock (seconds, or "30s", "2m").'),
            userClaim: z.string().min(1).default('sub').describe('Claim naming the user (a dotted path such as "ext.employee_id" reaches into an object).'),
            roleClaim: z
              .string()
              .min(1)
              .default('role')
              .describe('Claim naming the role: a string, or an array of strings (e.g. "groups", "realm_access.roles"). A dotted path reaches into an object unless the token has a claim of that exact name.'),
            teamClaim: z.string().min(1).default('team').describe('Claim naming the team (optional in the token); dotted paths as for roleClaim.'),
            roleMap: z
              .record(z.string(), z.string())
              .optional()
              .describe(
                'Identity-provider values of roleClaim → crmlink roles, e.g. { "crm-admins": admin, "sales-east": sales }. The first entry (in the order written) whose value the token carries names the role; a token carrying none is refused. Without roleMap the claim must be a string naming a declared role.',
              ),
            maxTokenAge: z
              .union([z.number().int().positive(), z.string().regex(DURATION, 'expected seconds or a span such as "8h"')])
              .optional()
              .describe('Accept a token without exp when its iat is at most this old (seconds, or "30m", "8h"). Without it, every token must carry exp.'),
          })
          .strict()
          .optional(),
        roles: z
          .record(z.string(), roleSchema)
          .default({})
          .describe('Roles by name. None is declared by default: a request whose role is not declared here is refused.'),
        anonymousRole: z
          .string()
          .optional()
          .describe('Role of every request when mode is none. Unset: no request is served without credentials.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type ServerConfig = z.infer<typeof serverSchema>;

/** How many backups retention keeps: the newest `last`, plus the newest of each of the last `daily` days and `weekly` ISO weeks. */
export const backupKeepSchema = z
  .object({
    last: z.number().int().min(0).default(1).describe('Keep the newest N backups whatever their age.'),
    daily: z.number().int().min(0).default(7).describe('Keep the newest backup of each of the last N days (UTC) that have one.'),
    weekly: z.number().int().min(0).default(4).describe('Keep the newest backup of each of the last N ISO weeks that have one.'),
  })
  .strict();

export const backupSchema = z
  .object({
    dir: z.string().default('./.crmlink/backups').describe('Directory of the backups (relative to the config file). Put it on another disk than the hub.'),
    schedule: z
      .string()
      .optional()
      .describe('node-cron expression for `crmlink serve` to take a backup, e.g. "0 2 * * *" (02:00 daily); absent: only `crmlink hub backup`.'),
    staleAfterHours: z
      .number()
      .positive()
      .optional()
      .describe('The console warns when the newest backup is older than this (hours). Default 26 when a schedule is set (daily plus slack); otherwise never.'),
    keep: z
      .union([z.number().int().min(1), backupKeepSchema])
      .default({ last: 1, daily: 7, weekly: 4 })
      .describe('Retention (保留策略): a number keeps the newest N; or { last, daily, weekly }. Older backups are deleted after each backup.'),
    pagesPerStep: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe('SQLite hub: database pages copied per step of the online backup; smaller steps keep a serving process more responsive.'),
    pgDump: z.string().default('pg_dump').describe('PostgreSQL hub: the pg_dump program (a name on PATH or a path).'),
    pgRestore: z.string().default('pg_restore').describe('PostgreSQL hub: the pg_restore program (a name on PATH or a path).'),
  })
  .strict();
export type BackupConfig = z.infer<typeof backupSchema>;

export const hubSchema = z
  .object({
    dialect: z.enum(['sqlite', 'postgres']).default('sqlite').describe('sqlite (embedded, one process) or postgres (several crmlink instances).'),
    connection: connectionSchema.default({ filename: './.crmlink/hub.db' }),
    backup: backupSchema.prefault({}).describe('Backups of the hub (备份): where, how often, how many to keep. See docs/backups.md.'),
  })
  .strict();

const percent = z.number().min(0).max(100);
const scoreRange = z.tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)]);

/** The default RFM rule table: the first row whose ranges hold names the segment. */
export const DEFAULT_RFM_SEGMENTS = [
  { name: 'champions', r: [4, 5], f: [4, 5], m: [4, 5] },
  { name: 'loyal', r: [3, 5], f: [3, 5], m: [1, 5] },
  { name: 'new', r: [4, 5], f: [1, 1], m: [1, 5] },
  { name: 'promising', r: [4, 5], f: [2, 2], m: [1, 5] },
  { name: 'at_risk', r: [1, 2], f: [3, 5], m: [1, 5] },
  { name: 'hibernating', r: [1, 2], f: [1, 2], m: [1, 5] },
  { name: 'needs_attention', r: [1, 5], f: [1, 5], m: [1, 5] },
] as const satisfies readonly { name: string; r: readonly [number, number]; f: readonly [number, number]; m: readonly [number, number] }[];

export const analysisSchema = z
  .object({
    timezone: z
      .string()
      .default('UTC')
      .refine(knownTimeZone, 'expected an IANA time zone such as Asia/Shanghai')
      .describe('IANA time zone whose calendar day is "today" for windows, recency and aging (e.g. Asia/Shanghai).'),
    asOf: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day, YYYY-MM-DD')
      .optional()
      .describe('Compute as of this day instead of today (a month-end close, a demo whose data ends on a fixed day).'),
    windowMonths: z.number().int().min(1).max(240).default(24).describe('RFM, profit contribution and tiers look at orders of this many months up to today.'),
    currentMonths: z
      .number()
      .int()
      .min(1)
      .max(120)
      .default(12)
      .describe('Current value (value matrix) is the contribution of this many months; the revenue trend compares them with the same span before.'),
    excludeOrderStatuses: z
      .array(z.enum(['DRAFT', 'APPROVED', 'SHIPPED', 'CLOSED', 'CANCELLED']))
      .default(['DRAFT', 'CANCELLED'])
      .describe('Sales orders with these statuses count for nothing.'),
    rfm: z
      .object({
        segments: z
          .array(z.object({ name: z.string().min(1).max(40), r: scoreRange, f: scoreRange, m: scoreRange }).strict())
          .min(1)
          .default(DEFAULT_RFM_SEGMENTS.map((s) => ({ name: s.name, r: [...s.r], f: [...s.f], m: [...s.m] })))
          .describe('Segment rule table, first match wins: score ranges [min, max] of recency, frequency and monetary value.'),
      })
      .strict()
      .prefault({})
      .describe('RFM: recency, frequency and monetary value scored 1–5 by quintile, named by segment.'),
    tiers: z
      .object({
        method: z.enum(['pyramid', 'abc']).default('pyramid').describe('pyramid: by rank (top 1 % / next 4 % / next 15 % / rest); abc: by cumulative share of contribution.'),
        pyramid: z
          .array(z.object({ name: z.string().min(1).max(40), percent: z.number().gt(0).max(100).multipleOf(0.01) }).strict())
          .default([
            { name: 'vip', percent: 1 },
            { name: 'major', percent: 4 },
            { name: 'ordinary', percent: 15 },
          ])
          .describe('Tiers from the top, each with its share of the customers that made a profit.'),
        rest: z.string().min(1).max(40).default('small').describe('Tier of every other customer.'),
        abc: z
          .object({ a: percent.default(80), b: percent.default(95) })
          .strict()
          .prefault({})
          .describe('abc: A while the cumulative share before the customer is under a %, B under b %, else C.'),
      })
      .strict()
      .prefault({})
      .refine((t) => t.pyramid.reduce((sum, x) => sum + x.percent, 0) <= 100, 'the pyramid percents add up to more than 100')
      .refine((t) => t.abc.a <= t.abc.b, 'abc.a must not exceed abc.b')
      .describe('Pyramid tiers (客户分级) by profit contribution.'),
    valueMatrix: z
      .object({
        currentThreshold: z
          .string()
          .regex(/^\d+(\.\d{1,2})?$/)
          .optional()
          .describe('Current value at or above this is "high"; default: the mean over customers with any current or potential value.'),
        potentialThreshold: z.string().regex(/^\d+(\.\d{1,2})?$/).optional().describe('Potential value at or above this is "high"; default: the mean, likewise.'),
        opportunityProbability: z
          .object({
            LEAD: percent.default(10),
            QUALIFIED: percent.default(25),
            PROPOSAL: percent.default(50),
            NEGOTIATION: percent.default(75),
          })
          .strict()
          .prefault({})
          .describe('Win probability (%) of an open opportunity by stage; potential value weighs the amount by it.'),
      })
      .strict()
      .prefault({})
      .describe('Value matrix (价值矩阵): current value against potential value.'),
    lifecycle: z
      .object({
        newDays: z.number().int().min(1).default(180).describe('new: the first order is at most this many days old.'),
        lapsedDays: z.number().int().min(1).default(365).describe('lapsed: no order for more than this many days.'),
        growthPercent: percent.default(10).describe('growing: current revenue up by at least this much on the span before.'),
        declinePercent: percent.default(20).describe('declining: current revenue down by at least this much on the span before.'),
      })
      .strict()
      .prefault({})
      .describe('Lifecycle (客户生命周期) rules: prospect → new → growing → mature → declining → lapsed.'),
    schedule: z
      .string()
      .optional()
      .describe('node-cron expression of the full refresh, e.g. "30 2 * * *"; absent: only after sync runs and on demand.'),
    refreshAfterSync: z.boolean().default(true).describe('Refresh the customers a sync run touched when it ends.'),
  })
  .strict();
export type AnalysisConfig = z.infer<typeof analysisSchema>;

export const tracingSchema = z
  .object({
    exporter: z
      .enum(['none', 'otlp'])
      .optional()
      .describe(
        'otlp: send spans by OTLP over HTTP (JSON encoding) to endpoint; none: record nothing (the no-op tracer, no cost). Default: otlp when endpoint or the environment variable OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, else none.',
      ),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe('OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces. Default: what OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces) say.'),
    serviceName: z.string().min(1).default('crmlink').describe('service.name of the spans (OTEL_SERVICE_NAME wins when set).'),
    sampleRatio: z.number().min(0).max(1).default(1).describe('Share of new traces recorded (0..1); a request carrying a sampled traceparent is recorded whatever this says.'),
  })
  .strict();
export type TracingConfig = z.infer<typeof tracingSchema>;

export const configSchema = z
  .object({
    hub: hubSchema.prefault({}).describe("crmlink's own store: golden records, cross-references, sync state."),
    sources: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'source names are letters, digits, _ and -'), sourceSchema)
      .describe('The databases crmlink connects to, by name.'),
    entities: z
      .partialRecord(z.enum(ENTITY_NAMES), entitySchema)
      .default({})
      .describe('Per CRM entity: how it maps onto the sources.'),
    sync: z
      .object({
        jobs: z.record(z.string(), jobSchema).default({}),
        propagation: z
          .object({
            debounceMs: z.number().int().min(0).max(60000).default(200).describe('Changes of the same job arriving within this window are pushed together, each record once with its latest values.'),
            retryMs: z.number().int().min(10).max(3600000).default(5000).describe('A target that failed is tried again after this long (doubling, up to 10 times); the schedule catches up after that.'),
          })
          .strict()
          .prefault({})
          .describe('Event-driven propagation (事件驱动传播): hub changes pushed at once while serving.'),
      })
      .strict()
      .prefault({}),
    server: serverSchema.prefault({}),
    analysis: analysisSchema.prefault({}).describe('Customer analysis: RFM, profit contribution, tiers, value matrix, lifecycle, credit (docs/analysis.md).'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    tracing: tracingSchema.prefault({}).describe('OpenTelemetry traces (docs/operations.md, "Traces").'),
  })
  .strict();

export type CrmlinkConfig = z.infer<typeof configSchema>;
export type HubConfig = CrmlinkConfig['hub'];
