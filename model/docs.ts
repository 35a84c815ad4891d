/**
 * The reference of the canonical model in Markdown, generated from MODEL so the docs cannot drift
 * from what the hub, the GraphQL schema and the mapping checks use
 * (`crmlink model docs > docs/model.md`; a test compares).
 */
import { DERIVED_FIELDS, ENTITY_NAMES, MODEL, type ModelField } from './entities.js';

/** What each value type is, in GraphQL and as crmlink holds it. */
const TYPES: [type: string, graphql: string, value: string][] = [
  ['string', 'String', 'text, up to the field\'s length in the hub'],
  ['text', 'String', 'long text'],
  ['int', 'Int', 'whole number'],
  ['decimal', 'Decimal', 'exact decimal as a string in plain notation ("12345.6789"), never a float; kept to the field\'s scale'],
  ['boolean', 'Boolean', 'true or false'],
  ['date', 'Date', 'a calendar day, "YYYY-MM-DD"'],
  ['datetime', 'DateTime', 'an instant, ISO 8601 in UTC ("2024-01-02T03:04:05.000Z"); naive source columns are read in the source\'s `timezone`'],
  ['enum', 'an enum type', 'one of the listed values; a mapping\'s `map:` turns source codes into them'],
  ['ref', 'the referenced type', 'the key of another record: in a mapping, the referenced record\'s key in the source (its `code` column, say); in the hub and GraphQL, its global id'],
];

export function modelReferenceMarkdown(): string {
  const out: string[] = [
    '# Canonical model reference',
    '',
    'Generated from the model (`crmlink model docs`; model/entities.ts). These are the entities every',
    'source maps onto (`entities.<Entity>.sources.<source>.fields` in crmlink.yaml, [config.md](config.md)),',
    'the GraphQL types and the hub tables. Fields beyond these are declared as custom fields under',
    '`entities.<Entity>.fields`.',
    '',
    '| type | GraphQL | value |',
    '| --- | --- | --- |',
    ...TYPES.map(([t, g, v]) => `| \`${t}\` | ${g} | ${escape(v)} |`),
    '',
    '**required**: a record where it is empty is refused (the sync parks the row, a mutation fails).',
    '**managed**: kept by the systems that hold the record; read, never written by a mutation.',
    '',
    '## Entities',
    '',
    '| entity | GraphQL list | meaning |',
    '| --- | --- | --- |',
    ...ENTITY_NAMES.map((e) => `| [${e}](#${e.toLowerCase()}) | \`${MODEL[e].plural}\` | ${escape(MODEL[e].description)} |`),
    '',
  ];
  for (const name of ENTITY_NAMES) {
    const e = MODEL[name];
    const referencedBy = ENTITY_NAMES.flatMap((other) => MODEL[other].fields.filter((f) => f.ref === name).map((f) => `${other}.${f.name}`));
    out.push(
      `## ${name}`,
      '',
      escape(e.description),
      '',
      `GraphQL: \`${e.plural}\` (list), \`${lowerFirst(name)}(id:)\`; global ids \`${e.idPrefix}_…\`; hub table \`${e.table}\`.` +
        (referencedBy.length > 0 ? ` Referenced by ${referencedBy.map((r) => `\`${r}\``).join(', ')}.` : ''),
      '',
      '| field | type | required | meaning |',
      '| --- | --- | --- | --- |',
      ...e.fields.map((f) => `| \`${f.name}\` | ${typeOf(f)} | ${f.required ? 'yes' : ''} | ${escape(f.description ?? '')}${f.managed ? ' (managed)' : ''} |`),
      ...DERIVED_FIELDS.filter((d) => d.entity === name).map(
        (d) => `| \`${d.name}\` | ${d.type}, computed | | ${escape(d.description)} From ${d.from.map((r) => `\`${r.entity}.${r.field}\``).join(', ')}. |`,
      ),
      '',
    );
  }
  return out.join('\n');
}

function typeOf(f: ModelField): string {
  switch (f.type) {
    case 'ref':
      return `ref → [${f.ref}](#${(f.ref ?? '').toLowerCase()})`;
    case 'enum':
      return `enum: ${(f.values ?? []).map((v) => `\`${v}\``).join(', ')}`;
    case 'decimal':
      return `decimal (scale ${f.scale ?? 4})`;
    case 'string':
      return f.maxLength ? `string (≤ ${f.maxLength})` : 'string';
    default:
      return f.type;
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function escape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
