/**
 * `crmlink mapping scaffold NAME --table T --entity E`: a mapping skeleton guessed from the
 * table's column names (Yonyou-style cCusCode, Kingdee-style FNUMBER, snake_case), for the ERP
 * team to review and paste under entities.<E>.sources.<NAME>.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CrmlinkError } from '../../core/errors.js';
import { SourceSet } from '../../connectors/registry.js';
import type { ColumnInfo, TableInfo } from '../../connectors/driver.js';
import { MODEL, isEntityName, type EntityName, type FieldType } from '../../model/entities.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import type { SourcesContext } from './sources.js';

export function register(program: Command, ctx: SourcesContext): void {
  const out = (t: string) => (ctx.out ?? ((s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`)))(t);
  const err = (t: string) => (ctx.err ?? ((s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`)))(t);
  const mapping = program.command('mapping').description('Write mappings from what the source databases hold');

  mapping
    .command('scaffold')
    .description('Print a YAML mapping skeleton for one table, guessing fields from column names')
    .argument('<name>', 'source name')
    .requiredOption('-t, --table <table>', 'source table')
    .requiredOption('-e, --entity <entity>', 'CRM entity, e.g. Customer')
    .option('-s, --schema <schema>', 'schema (PostgreSQL / SQL Server)')
    .option('-c, --config <file>', 'config file (default: crmlink.yaml or $CRMLINK_CONFIG)')
    .action(async (name: string, opts: { table: string; entity: string; schema?: string; config?: string }) => {
      if (!isEntityName(opts.entity)) {
        err(`unknown entity "${opts.entity}" (one of ${Object.keys(MODEL).join(', ')})`);
        throw new ExitCode(EXIT.usage);
      }
      const loaded = ctx.loadConfig(opts);
      let set: SourceSet;
      try {
        set = SourceSet.open(loaded, { only: [name] });
      } catch (e) {
        if (e instanceof CrmlinkError && e.code === 'SOURCE_UNKNOWN') {
          err(`error [${e.code}]: ${e.message}`);
          throw new ExitCode(EXIT.usage);
        }
        throw e;
      }
      try {
        const [table] = await set.connector(name).introspect({ table: opts.table, schema: opts.schema });
        if (!table) {
          err(`table "${opts.table}" not found in source "${name}" (see: crmlink sources introspect ${name})`);
          throw new ExitCode(EXIT.failed);
        }
        out(scaffoldMapping(name, opts.entity, table));
      } finally {
        await set.destroy();
      }
    });
}

/** Field-name guesses per normalised column name, most specific first. */
const GUESSES: [field: string, pattern: RegExp][] = [
  ['shortName', /(abb|short)name|abbr|alias/],
  ['creditCode', /creditcode|uscc|socialcredit|taxno|taxcode|regcode/],
  ['creditLimit', /creline|creditlimit|creditline|credit/],
  ['email', /e?mail/],
  ['phone', /phone|tel$|telephone|mobile/],
  ['address', /addr/],
  ['city', /city/],
  ['province', /province|region|state$/],
  ['ownerId', /pperson|owner|salesman|saler|salesperson|personcode/],
  ['ownerTeam', /depart|dept|team/],
  ['updatedAt', /modif|updat|lastmod|changed/],
  ['createdAt', /creat(e|ed)?(date|time|at|on)/],
  ['status', /status|forbid|enable|state/],
  ['industry', /industry|trade/],
  ['name', /name$/],
  ['code', /code$|^number$|^no$|^num$|id$/],
];

/** cCusCode → cuscode, FNUMBER → number, customer_id → customerid. */
export function normaliseColumn(column: string): string {
  let c = column;
  if (/^[cidbnfm][A-Z]/.test(c)) c = c.slice(1); // Hungarian prefixes (U8: cCusCode, iCusCreLine, dModifyDate)
  else if (/^F[A-Z0-9_]+$/.test(c)) c = c.slice(1); // Kingdee: FNUMBER, FMODIFYDATE
  return c.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const TEMPORAL = /date|time/i;

export function guessFields(entity: EntityName, table: TableInfo): { fields: Record<string, string>; unmapped: string[] } {
  const model = new Map(MODEL[entity].fields.map((f) => [f.name, f.type]));
  const fields: Record<string, string> = {};
  const unmapped: string[] = [];
  for (const col of table.columns) {
    const n = normaliseColumn(col.name);
    const exact = [...model.keys()].find((f) => f.toLowerCase() === n && !(f in fields));
    const guess = exact ?? GUESSES.find(([f, re]) => model.has(f) && !(f in fields) && re.test(n) && typeFits(model.get(f), col))?.[0];
    if (guess) fields[guess] = col.name;
    else unmapped.push(col.name);
  }
  return { fields, unmapped };
}

function typeFits(type: FieldType | undefined, col: ColumnInfo): boolean {
  if (type === 'datetime' || type === 'date') return TEMPORAL.test(col.type);
  return !TEMPORAL.test(col.type) || type === 'string';
}

export function scaffoldMapping(source: string, entity: EntityName, table: TableInfo): string {
  const { fields, unmapped } = guessFields(entity, table);
  const key = table.primaryKey.length > 0 ? table.primaryKey : (table.uniqueKeys[0] ?? []);
  const modified = table.columns.find((c) => TEMPORAL.test(c.type) && /modif|updat|lastmod|changed/.test(normaliseColumn(c.name)));
  const decimals = new Map(table.columns.filter((c) => c.scale !== null && c.scale > 0).map((c) => [c.name, c.scale as number]));
  const fieldEntries: Record<string, string | { column: string; scale: number }> = {};
  for (const [f, column] of Object.entries(fields)) {
    const scale = decimals.get(column);
    fieldEntries[f] = MODEL[entity].fields.find((m) => m.name === f)?.type === 'decimal' && scale !== undefined ? { column, scale } : column;
  }
  const doc = {
    entities: {
      [entity]: {
        sources: {
          [source]: {
            table: table.name,
            ...(table.schema && !['public', 'dbo'].includes(table.schema) ? { schema: table.schema } : {}),
            key,
            changes: modified ? { strategy: 'timestamp', column: modified.name, lookBackSeconds: 300 } : { strategy: 'hash' },
            write: [],
            fields: fieldEntries,
          },
        },
      },
    },
  };
  const header = [
    `# Mapping skeleton for ${entity} from ${source}.${table.name}, guessed from column names: review every line.`,
    `# write: [] keeps the table read-only; add insert / update / delete once the ERP team agrees.`,
    ...(key.length === 0 ? ['# TODO: the table has no primary or unique key: set key to the columns that identify a row.'] : []),
  ];
  const footer = unmapped.length > 0 ? [`# Columns not mapped: ${unmapped.join(', ')}`] : [];
  return [...header, stringify(doc, { lineWidth: 0 }).trimEnd(), ...footer].join('\n');
}
