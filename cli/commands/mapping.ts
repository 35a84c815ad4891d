/**
 * `crmlink mapping scaffold NAME --table T --entity E`: a mapping skeleton guessed from the
 * table's column names (Yonyou-style cCusCode, Kingdee-style FNUMBER, snake_case), for the ERP
 * team to review and paste under entities.<E>.sources.<NAME>.
 */
import type { Command } from 'commander';
import { Document, isMap, isScalar } from 'yaml';
import { CrmlinkError } from '../../core/errors.js';
import type { SourceSet } from '../../connectors/registry.js';
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
      const loaded = await ctx.loadConfig(opts);
      const { SourceSet } = await import('../../connectors/registry.js');
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
        const { DEFAULT_RULES, describeMatching } = await import('../../identity/index.js');
        out(scaffoldMapping(name, opts.entity, table, describeMatching(DEFAULT_RULES)));
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
  // An enum takes only its own values: guessed from a column called status, never from "state"
  // (a ship-to state is free text) or flags, which need a map of codes anyway.
  ['status', /status$/],
  ['amount', /^total$|totalamount|amount$|^amt$|money$/],
  ['balance', /balance$/],
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

export interface FieldGuesses {
  fields: Record<string, string>;
  unmapped: string[];
  /** Fields whose column has the field's own name (no guess). */
  exact: Set<string>;
  /** Fields several columns could be (e.g. a name in two columns): left unmapped, the columns named. */
  ambiguous: Record<string, string[]>;
}

/**
 * Fields from column names. A column with the field's own name maps it; otherwise a pattern
 * guesses, and a field two columns could be is not guessed at all: no guess beats a wrong one.
 */
export function guessFields(entity: EntityName, table: TableInfo): FieldGuesses {
  const model = new Map(MODEL[entity].fields.map((f) => [f.name, f.type]));
  const exactOf = new Map<string, string>();
  const patternOf = new Map<string, string[]>();
  const unmapped: string[] = [];
  for (const col of table.columns) {
    const n = normaliseColumn(col.name);
    const exact = [...model.keys()].find((f) => f.toLowerCase() === n && !exactOf.has(f));
    if (exact) {
      exactOf.set(exact, col.name);
      continue;
    }
    const guess = GUESSES.find(([f, re]) => model.has(f) && re.test(n) && typeFits(model.get(f), col))?.[0];
    if (guess) patternOf.set(guess, [...(patternOf.get(guess) ?? []), col.name]);
    else unmapped.push(col.name);
  }
  const fields: Record<string, string> = {};
  const ambiguous: Record<string, string[]> = {};
  for (const f of model.keys()) {
    const exact = exactOf.get(f);
    const guessed = patternOf.get(f) ?? [];
    if (exact) {
      fields[f] = exact;
      unmapped.push(...guessed);
    } else if (guessed.length === 1) fields[f] = guessed[0];
    else if (guessed.length > 1) {
      ambiguous[f] = guessed;
      unmapped.push(...guessed);
    }
  }
  const order = new Map(table.columns.map((c, i) => [c.name, i]));
  unmapped.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  return { fields, unmapped, exact: new Set(exactOf.keys()), ambiguous };
}

const NUMERIC = /int|dec|num|real|float|double|money/i;

function typeFits(type: FieldType | undefined, col: ColumnInfo): boolean {
  if (type === 'datetime' || type === 'date') return TEMPORAL.test(col.type);
  if (type === 'decimal' || type === 'int') return NUMERIC.test(col.type);
  return !TEMPORAL.test(col.type) || type === 'string';
}

/** `defaultMatching`: the default match rules in words (identity's describeMatching), for the Customer comment. */
export function scaffoldMapping(source: string, entity: EntityName, table: TableInfo, defaultMatching: string): string {
  const { fields, unmapped, exact, ambiguous } = guessFields(entity, table);
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
  const yamlDoc = new Document(doc);
  // Every guess says so on its line: a reviewer sees which lines are certain.
  const node = yamlDoc.getIn(['entities', entity, 'sources', source, 'fields'], true);
  if (isMap(node)) {
    for (const pair of node.items) {
      const field = isScalar(pair.key) ? String(pair.key.value) : '';
      const model = MODEL[entity].fields.find((m) => m.name === field);
      const notes = [exact.has(field) ? 'same name' : 'guessed from the column name: review'];
      if (model?.type === 'enum') notes.push(`enum ${model.values?.join('/') ?? ''}: add map: of the source's codes`);
      if (isScalar(pair.value) || isMap(pair.value)) pair.value.comment = ` ${notes.join('; ')}`;
    }
  }
  const footer = [
    ...Object.entries(ambiguous).map(([f, cols]) => `# Not guessed: ${f} could be ${cols.join(' or ')} (several columns? use { columns: [${cols.join(', ')}], separator: " " })`),
    ...(unmapped.length > 0 ? [`# Columns not mapped: ${unmapped.join(', ')}`] : []),
    ...(entity === 'Customer'
      ? [
          `# Identity: without entities.Customer.match the default rules apply: ${defaultMatching}.`,
          '# To change them: match: [{ rule: creditCode }, { rule: name, weight: 0.9 }, { rule: phone, weight: 0.6 }, { rule: email, weight: 0.7 }] (docs/identity.md)',
        ]
      : []),
  ];
  return [...header, yamlDoc.toString({ lineWidth: 0 }).trimEnd(), ...footer].join('\n');
}
