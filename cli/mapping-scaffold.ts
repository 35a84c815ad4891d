/**
 * What `crmlink mapping scaffold` writes: field guesses from column names (Yonyou-style cCusCode,
 * Kingdee-style FNUMBER, snake_case) and the YAML they go into, comments and the file's own keys
 * kept. Loaded by the command when it runs, so `crmlink --help` does not load the YAML library.
 */
import { readFileSync } from 'node:fs';
import { Document, Scalar, isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';
import type { ColumnInfo, TableInfo } from '../connectors/driver.js';
import { MODEL, type EntityName, type FieldType } from '../model/entities.js';

/** The config file as a YAML document to add to (its comments and ${VAR}s kept), or a new one. */
export function configDocument(file: string | undefined): Document {
  return file ? parseDocument(readFileSync(file, 'utf8')) : new Document({});
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

/** The mapping of one table, guessed, with the notes a reviewer needs. */
function scaffoldEntry(entity: EntityName, table: TableInfo): { mapping: Record<string, unknown>; notes: string[]; footer: string[]; exact: Set<string> } {
  const { fields, unmapped, exact, ambiguous } = guessFields(entity, table);
  const keyFound = table.primaryKey.length > 0 ? table.primaryKey : (table.uniqueKeys[0] ?? []);
  // A key is required: without one the first column stands in, marked TODO.
  const key = keyFound.length > 0 ? keyFound : table.columns.slice(0, 1).map((c) => c.name);
  const modified = table.columns.find((c) => TEMPORAL.test(c.type) && /modif|updat|lastmod|changed/.test(normaliseColumn(c.name)));
  const decimals = new Map(table.columns.filter((c) => c.scale !== null && c.scale > 0).map((c) => [c.name, c.scale as number]));
  const fieldEntries: Record<string, string | { column: string; scale: number }> = {};
  for (const [f, column] of Object.entries(fields)) {
    const scale = decimals.get(column);
    fieldEntries[f] = MODEL[entity].fields.find((m) => m.name === f)?.type === 'decimal' && scale !== undefined ? { column, scale } : column;
  }
  const mapping = {
    table: table.name,
    ...(table.schema && !['public', 'dbo'].includes(table.schema) ? { schema: table.schema } : {}),
    key,
    changes: modified ? { strategy: 'timestamp', column: modified.name, lookBackSeconds: 300 } : { strategy: 'hash' },
    write: [],
    fields: fieldEntries,
  };
  const notes = [
    `${entity} from ${table.name}, guessed from column names: review every line.`,
    'write: [] keeps the table read-only; add insert / update / delete once the ERP team agrees.',
    ...(keyFound.length === 0 ? [`TODO: the table has no primary or unique key: key is set to ${key.join(', ') || 'nothing'}; set it to the columns that identify a row.`] : []),
  ];
  const footer = [
    ...Object.entries(ambiguous).map(([f, cols]) => `Not guessed: ${f} could be ${cols.join(' or ')} (several columns? use { columns: [${cols.join(', ')}], separator: " " })`),
    ...(unmapped.length > 0 ? [`Columns not mapped: ${unmapped.join(', ')}`] : []),
  ];
  return { mapping, notes, footer, exact };
}

/** A scalar key node, so a comment can sit above it. */
function keyNode(map: YAMLMap, key: string): Scalar | undefined {
  const pair = map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
  if (!pair) return undefined;
  if (!isScalar(pair.key)) pair.key = new Scalar(pair.key);
  return pair.key as Scalar;
}

function mapAt(doc: Document, path: string[]): YAMLMap {
  const node = doc.getIn(path, true);
  if (isMap(node)) return node;
  doc.setIn(path, doc.createNode({}));
  return doc.getIn(path, true) as YAMLMap;
}

/**
 * Adds `entities.<entity>` (mode, and the table's mapping for `source`) and a pull job for it
 * when the file has none, with every guess commented. `defaultMatching`: the default match rules
 * in words (identity's describeMatching), for the Customer note.
 */
export function addScaffold(doc: Document, source: string, entity: EntityName, table: TableInfo, defaultMatching: string): void {
  const { mapping, notes, footer, exact } = scaffoldEntry(entity, table);
  const entities = mapAt(doc, ['entities']);
  const entityMap = mapAt(doc, ['entities', entity]);
  if (!entityMap.has('mode')) entityMap.set('mode', doc.createNode('replicated'));
  const mode = entityMap.get('mode', true);
  if (isScalar(mode) && !mode.comment) mode.comment = ' replicated: a hub copy kept in step by the sync job | federated: read live from the source';
  const sources = mapAt(doc, ['entities', entity, 'sources']);
  sources.set(source, doc.createNode(mapping));
  const entityKey = keyNode(entities, entity);
  const identity =
    entity === 'Customer'
      ? [
          `Identity: without entities.Customer.match the default rules apply: ${defaultMatching}.`,
          'To change them: match: [{ rule: creditCode }, { rule: name, weight: 0.9 }, { rule: phone, weight: 0.6 }, { rule: email, weight: 0.7 }] (docs/identity.md)',
        ]
      : [];
  if (entityKey) entityKey.commentBefore = [...notes, ...identity].map((l) => ` ${l}`).join('\n');
  const mappingNode = sources.get(source, true);
  if (isMap(mappingNode)) {
    const fieldsKey = keyNode(mappingNode, 'fields');
    if (fieldsKey && footer.length > 0) fieldsKey.commentBefore = footer.map((l) => ` ${l}`).join('\n');
    // Every guess says so on its line: a reviewer sees which lines are certain.
    const fieldsNode = mappingNode.get('fields', true);
    if (isMap(fieldsNode)) {
      for (const pair of fieldsNode.items) {
        const field = isScalar(pair.key) ? String(pair.key.value) : '';
        const model = MODEL[entity].fields.find((m) => m.name === field);
        const fieldNotes = [exact.has(field) ? 'same name' : 'guessed from the column name: review'];
        if (model?.type === 'enum') fieldNotes.push(`enum ${model.values?.join('/') ?? ''}: add map: of the source's codes`);
        if (isScalar(pair.value) || isMap(pair.value)) pair.value.comment = ` ${fieldNotes.join('; ')}`;
      }
    }
  }
  // A replicated entity answers from the hub: without a job that fills it, it answers nothing.
  const jobs = mapAt(doc, ['sync', 'jobs']);
  const hasJob = jobs.items.some((p) => isMap(p.value) && String(p.value.get('entity')) === entity);
  if (!hasJob) {
    const jobName = jobs.has(MODEL[entity].plural) ? `${MODEL[entity].plural}-${source}` : MODEL[entity].plural;
    jobs.set(jobName, doc.createNode({ entity, sources: [source], direction: 'pull' }));
    const jobKey = keyNode(jobs, jobName);
    if (jobKey) {
      jobKey.commentBefore = ` Fills the hub with ${entity} from ${source}: crmlink sync run ${jobName}; add schedule: "*/15 * * * *" to run it under crmlink serve.`;
    }
  }
}

/** One table's mapping as a config fragment (entities + job), as `mapping scaffold` prints it. */
export function scaffoldMapping(source: string, entity: EntityName, table: TableInfo, defaultMatching: string): string {
  const doc = new Document({});
  addScaffold(doc, source, entity, table, defaultMatching);
  return doc.toString({ lineWidth: 0 }).trimEnd();
}
